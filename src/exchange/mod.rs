//! The `Exchange` port (venue-neutral trait and types) and one module per venue.
