"""R-peak detectors: one record's single-lead signal in, R-peak sample indices out."""
