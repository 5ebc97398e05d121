"""Where the data comes from: data-root discovery and the transcript reader."""
