"""Reports and figures: statistics over seeds, plots, Markdown/HTML documents, energy reports."""
