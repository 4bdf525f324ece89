//! Recurrent encoders (RNN, LSTM, GRU) and attention on libtorch through `tch`.
