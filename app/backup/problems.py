"""Error codes of backup and restore (app.backup): one entry per code, see app.problems."""

from __future__ import annotations

from app.problems import N_, AppError, Conflict, Problem, Problems


class BackupError(AppError):
    """A backup that cannot be made, or a backup file that cannot be restored; nothing was changed."""


BACKUP_PROBLEMS = Problems(
    Problem("backup.damaged", N_("%(name)s in the backup was changed or damaged: its contents do not match the "
                                 "backup's list."), BackupError),
    Problem("backup.exists", N_("%(path)s already exists; choose another name or folder."), BackupError),
    Problem("backup.none", N_("Choose the backup file (.zip) first.")),
    Problem("backup.not_a_backup", N_("%(name)s is not a Pantau KLA backup (no readable manifest)."), BackupError),
    Problem("backup.format", N_("This backup has format version %(version)s; this app reads version %(ours)s."),
            BackupError),
    Problem("backup.incomplete", N_("The backup lacks %(name)s, which its list names (an incomplete copy?)."),
            BackupError),
    Problem("backup.unexpected", N_("The backup holds a file its list does not name: %(name)s."), BackupError),
    Problem("backup.wrong_database", N_("This backup is of a %(theirs)s database; this installation uses "
                                        "%(ours)s. Restore it onto an installation of the same kind."), BackupError),
    Problem("backup.wrong_role", N_("This is a backup of a %(theirs)s; this installation is a %(ours)s."),
            BackupError),
    Problem("backup.newer_schema", N_("This backup was made by a newer version of Pantau KLA (schema %(revision)s). "
                                      "Update the app first, then restore."), BackupError),
    Problem("backup.not_empty", N_("This installation already holds data (%(what)s). Restoring replaces all of it: "
                                   "run the restore again with --replace if that is what you want."), Conflict),
    Problem("backup.tool_missing", N_("%(tool)s was not found; install the PostgreSQL client tools of the "
                                      "server's version."), BackupError),
    Problem("backup.tool_failed", N_("%(tool)s failed: %(detail)s"), BackupError),
    Problem("backup.verify_failed", N_("The data read back differs from the backup in table %(table)s (%(saved)s rows "
                                       "saved, %(found)s read back); nothing was restored."), BackupError),
    Problem("backup.no_space", N_("The backup needs %(need)s MB free in the data folder; %(free)s MB are free."),
            BackupError),
    Problem("backup.not_empty/browser", N_("This device already holds audits; a backup can only be restored onto a "
                                           "device without them."), Conflict),
)
