//! Pure copy decisions: sizing, signal → planned actions, risk gate, reconciliation diff,
//! client order ids. No I/O, no clocks: every input is an argument.
