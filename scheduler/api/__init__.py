"""The gRPC edge: proto conversion (``convert``), the lazy calendar reader for ProposeSlots
(``calendars``), request errors and the BadRequest status (``errors``), the servicer
(``service``) and the server (``server``). Converts requests, calls the core, converts answers
back; holds no planning logic.
"""
