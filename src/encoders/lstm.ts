// lstm: the paper's text encoder (masked LSTM, max-pooled sentence feature).
import { declareRecurrent } from "./recurrent.js";

export const lstm = declareRecurrent("lstm", "Masked LSTM over word embeddings; sentence = max over valid words.");
