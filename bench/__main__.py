"""`make bench`: run every benchmark with its full budget."""

from bench import geo, indicators, pages, sync

if __name__ == "__main__":
    pages.main(["--requests", "400"])
    geo.main([])
    sync.main([])
    sync.main(["--postgres"])
    indicators.main([])
