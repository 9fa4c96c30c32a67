"""Analysis of post-decision text (rationales): development-time only, never model input."""
