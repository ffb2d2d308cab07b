// gru: a masked GRU text encoder, max-pooled sentence feature.
import { declareRecurrent } from "./recurrent.js";

export const gru = declareRecurrent("gru", "Masked GRU over word embeddings; sentence = max over valid words.");
