"""`make bench`: run every benchmark with its full budget."""

from bench import backup, fieldapp, geo, indicators, load, maps, pages, sync

if __name__ == "__main__":
    pages.main(["--requests", "400"])
    geo.main([])
    maps.main([])
    sync.main([])
    sync.main(["--postgres"])
    indicators.main([])
    fieldapp.main([])
    backup.main([])
    backup.main(["--postgres"])
    load.main([])  # 50 devices + 20 planners for 5 minutes, on SQLite and on PostgreSQL
    load.main(["--postgres"])
