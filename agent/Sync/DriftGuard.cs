namespace NodeAgent.Sync;

/// <summary>
/// The daemon's memory of drift (node-apply.md, "Living next to MCO": never fight another writer
/// in a loop). Per file: which foreign content was already reported, so the same content seen
/// again is not reported again, and when node-agent may restore the file next.
/// <para>
/// Back-off: a drifted file is restored at once, and never twice within the interval (at first
/// <c>DriftBackoffSeconds</c>). If it drifts again within the interval after a restore, another
/// writer is fighting: the next restore waits for the end of the interval, and the interval
/// doubles, up to <see cref="Cap"/>. A file that stays as node-agent wrote it for a whole interval
/// starts over at the base interval.
/// </para>
/// Used from the daemon's single reconcile loop only, so it takes no locks.
/// </summary>
public sealed class DriftGuard(TimeSpan interval, TimeProvider time)
{
    /// <summary>The longest interval between two restores of a file while another writer keeps changing it (unless the base is longer).</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMinutes(5);

    private const string Absent = "(no file)";

    private readonly Dictionary<string, FileRecord> _files = new(StringComparer.Ordinal);

    /// <summary>The interval after a calm period: <c>DriftBackoffSeconds</c>.</summary>
    public TimeSpan Base { get; } = interval > TimeSpan.Zero ? interval : throw new ArgumentOutOfRangeException(nameof(interval), interval, "the drift back-off must be positive");

    /// <summary>The interval stops doubling here.</summary>
    public TimeSpan Cap => Base > MaxInterval ? Base : MaxInterval;

    /// <summary>
    /// <paramref name="path"/> was seen drifted: null when it may be restored now, otherwise how
    /// long the back-off still holds the restore back.
    /// </summary>
    public TimeSpan? Hold(string path)
    {
        var record = Record(path);
        record.SeenSince ??= time.GetUtcNow();
        return Wait(record);
    }

    /// <summary>True while a restore of <paramref name="path"/> is held back: nothing new to learn from another look at it.</summary>
    public bool IsHeld(string path) => _files.TryGetValue(path, out var record) && record.SeenSince is not null && Wait(record) is not null;

    /// <summary>
    /// Whether drifted content (by its SHA-256; null: the file is gone) is news to report. The same
    /// content seen again before node-agent restored the file is not.
    /// </summary>
    public bool IsNews(string path, string? foundSha256)
    {
        var record = Record(path);
        var found = foundSha256 ?? Absent;
        if (record.Reported == found)
        {
            return false;
        }
        record.Reported = found;
        return true;
    }

    /// <summary>
    /// Node-agent wrote <paramref name="path"/> back over someone else's content. Returns the new,
    /// longer interval when this restore was a fight (the file drifted again within the interval),
    /// otherwise null.
    /// </summary>
    public TimeSpan? Restored(string path)
    {
        var record = Record(path);
        var now = time.GetUtcNow();
        TimeSpan? longer = null;
        if (record.LastRestore is { } last && record.SeenSince is { } seen && seen - last < record.Interval)
        {
            var doubled = record.Interval * 2 < Cap ? record.Interval * 2 : Cap;
            longer = doubled > record.Interval ? doubled : null;
            record.Interval = doubled;
        }
        else
        {
            record.Interval = Base;
        }
        record.LastRestore = now;
        record.SeenSince = null;
        record.Reported = null;
        return longer;
    }

    /// <summary>
    /// After a pass: files not among <paramref name="drifted"/> are as node-agent wrote them (again),
    /// so their drift is over; records that no longer change any decision are dropped.
    /// </summary>
    public void PassFinished(IReadOnlyCollection<string> drifted)
    {
        ArgumentNullException.ThrowIfNull(drifted);
        var now = time.GetUtcNow();
        foreach (var (path, record) in _files.ToList())
        {
            if (drifted.Contains(path))
            {
                continue;
            }
            record.SeenSince = null;
            record.Reported = null;
            if (record.LastRestore is not { } last || now - last >= record.Interval)
            {
                _files.Remove(path);
            }
        }
    }

    /// <summary>
    /// How long until the first held-back restore is due; null when none is held back. A restore
    /// already due is left to the next pass, whatever wakes it: a pass that could not restore
    /// (invalid input, say) must not turn into a timer that fires again at once.
    /// </summary>
    public TimeSpan? NextDue()
    {
        TimeSpan? next = null;
        foreach (var record in _files.Values)
        {
            if (Wait(record) is { } wait && (next is null || wait < next))
            {
                next = wait;
            }
        }
        return next;
    }

    // Null: restore now (never restored, calm for a whole interval, or the interval is over).
    private TimeSpan? Wait(FileRecord record)
    {
        if (record.LastRestore is not { } last || record.SeenSince is not { } seen || seen - last >= record.Interval)
        {
            return null;
        }
        var left = last + record.Interval - time.GetUtcNow();
        return left > TimeSpan.Zero ? left : null;
    }

    private FileRecord Record(string path)
    {
        if (!_files.TryGetValue(path, out var record))
        {
            record = new FileRecord { Interval = Base };
            _files[path] = record;
        }
        return record;
    }

    private sealed class FileRecord
    {
        public DateTimeOffset? LastRestore { get; set; }

        public TimeSpan Interval { get; set; }

        /// <summary>When the current drift was first seen; null while the file is as node-agent wrote it.</summary>
        public DateTimeOffset? SeenSince { get; set; }

        public string? Reported { get; set; }
    }
}
