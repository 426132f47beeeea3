"""`make bench`: run every benchmark with its full budget."""

from bench import pages

if __name__ == "__main__":
    pages.main(["--requests", "400"])
