"""The gRPC edge: proto conversion, the lazy calendar reader for ProposeSlots, the servicer and the
server. Converts requests, calls the core, converts answers back; holds no planning logic.
"""
