"""The book's side: the paper's own numbers, result tables over seeds, references (mean pose,
oracle), figures, exports of small results, and the runner that executes and builds the book."""
