// A Node client of scheduler.v1.Scheduler (@grpc/grpc-js), as docs/grpc.md describes it.
//
//   node client.js request.json            # Optimize the OptimizeRequest in request.json
//   node client.js --bad                   # a request the server refuses: print its details
//
// Environment: SCHEDULER_ADDRESS (default 127.0.0.1:50051), PROTOS (default ./protos, made by
// `python scripts/export_protos.py --to docs/examples/node/protos`), SCHEDULER_TOKEN (sent as
// "authorization: Bearer <token>" when set), SCHEDULER_CA (PEM file: use TLS with this root).
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTOS = process.env.PROTOS || path.join(__dirname, 'protos');
const ADDRESS = process.env.SCHEDULER_ADDRESS || '127.0.0.1:50051';

const definition = protoLoader.loadSync('scheduler/v1/scheduler.proto', {
  includeDirs: [PROTOS],
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});
const scheduler = grpc.loadPackageDefinition(definition).scheduler.v1;

// The error details travel in the trailer grpc-status-details-bin as a google.rpc.Status.
const errors = new protobuf.Root();
errors.resolvePath = (_origin, target) => path.join(PROTOS, target);
errors.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
const Status = errors.lookupType('google.rpc.Status');

function details(error) {
  const raw = error.metadata && error.metadata.get('grpc-status-details-bin')[0];
  if (!raw) return [];
  return Status.decode(raw).details.map((any) => {
    const type = errors.lookupType(any.type_url.split('/').pop());
    return { type: type.fullName.slice(1), value: type.toObject(type.decode(any.value)) };
  });
}

function credentials() {
  return process.env.SCHEDULER_CA
    ? grpc.credentials.createSsl(fs.readFileSync(process.env.SCHEDULER_CA))
    : grpc.credentials.createInsecure();
}

function metadata() {
  const md = new grpc.Metadata();
  if (process.env.SCHEDULER_TOKEN) md.set('authorization', `Bearer ${process.env.SCHEDULER_TOKEN}`);
  md.set('x-request-id', `node-${Date.now()}`);
  return md;
}

const client = new scheduler.Scheduler(ADDRESS, credentials(), {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
});
const bad = process.argv[2] === '--bad';
const request = bad
  ? { instance: {} }
  : JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const deadline = new Date(Date.now() + 10_000);

client.Optimize(request, metadata(), { deadline }, (error, response) => {
  if (error) {
    console.log(`status ${grpc.status[error.code]}: ${error.details}`);
    for (const d of details(error)) console.log(JSON.stringify(d));
    process.exit(bad ? 0 : 1);
  }
  const { stats, kpis } = response.solution;
  console.log(
    `plan: ${response.solution.assignments.length} referrals, ${kpis.onTime || 0} on time, ` +
      `status ${stats.status}, proven optimal ${Boolean(stats.provenOptimal)}`,
  );
  process.exit(0);
});
