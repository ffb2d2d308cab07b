// TensorBoard event records: the Event and Summary protobufs of TensorFlow
// (tensorflow/core/util/event.proto, core/framework/summary.proto) reduced to the fields
// scalar logs use, encoded with protobufjs, each framed as a TFRecord.
import protobuf from "protobufjs/light.js";
import { tfrecord } from "./tfrecord.js";

/** The field numbers are TensorFlow's; only the ones sdfn writes are declared. */
const root = protobuf.Root.fromJSON({
  nested: {
    tensorflow: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ["file_version", "summary"] } },
          fields: {
            wall_time: { type: "double", id: 1 },
            step: { type: "int64", id: 2 },
            file_version: { type: "string", id: 3 },
            summary: { type: "Summary", id: 5 },
          },
        },
        Summary: {
          fields: { value: { rule: "repeated", type: "Value", id: 1 } },
          nested: { Value: { fields: { tag: { type: "string", id: 1 }, simple_value: { type: "float", id: 2 } } } },
        },
      },
    },
  },
});
const EventMessage = root.lookupType("tensorflow.Event");

/** What TensorBoard expects as the first record of every event file. */
export const FILE_VERSION = "brain.Event:2";

/** The opening record: wall time (seconds) and the file version. */
export function versionRecord(wallTime: number): Buffer {
  return tfrecord(EventMessage.encode(EventMessage.create({ wall_time: wallTime, file_version: FILE_VERSION })).finish());
}

/** One event with a scalar per tag at global step `step`; non-finite values are kept (TensorBoard shows them). */
export function scalarsRecord(wallTime: number, step: number, scalars: Record<string, number>): Buffer {
  const value = Object.entries(scalars).map(([tag, v]) => ({ tag, simple_value: v }));
  return tfrecord(EventMessage.encode(EventMessage.create({ wall_time: wallTime, step, summary: { value } })).finish());
}
