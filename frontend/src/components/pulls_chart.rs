//! A chart of pulls per day (SVG).
