//! A simulated exchange that speaks the Binance USD-M wire protocol over real HTTP and
//! WebSocket: matching and margin model, admin API, faults, price feeds. Serves every
//! integration test and paper mode.
