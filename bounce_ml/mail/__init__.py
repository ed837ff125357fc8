"""Reading bounce emails and batch files into records."""
