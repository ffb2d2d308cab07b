// bilstm: forward and backward masked LSTMs, concatenated (2 × hidden, projected to d when different).
import { declareRecurrent } from "./recurrent.js";

export const bilstm = declareRecurrent(
  "bilstm",
  "Bidirectional masked LSTM (2 × hidden features); sentence = max over valid words.",
);
