"""Small shared pieces: errors, time, Japanese text normalisation."""
