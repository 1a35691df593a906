using System;
using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>
/// The figures of one process over the windows of a measurement, in total and (unless only
/// totals are wanted) per mapping. No I/O: it is given each window's mappings, or totals.
/// </summary>
/// <remarks>
/// A mapping is followed from one window to the next by its start address and its backing (device,
/// inode, path, kind); a mapping that grows down (a stack) keeps its end instead. A mapping that
/// is gone at a window's end is dropped; one that appears has figures only for the windows it
/// existed in, which are always the last windows of the measurement.
/// </remarks>
internal sealed class AccessTracker
{
    private readonly bool _perMapping;
    private readonly List<long> _referencedTotals = new();
    private Dictionary<ulong, Track> _byStart = new();
    private Dictionary<ulong, Track> _byEnd = new();
    private List<Track> _current = new();
    private Dictionary<ulong, Track> _nextByStart = new();
    private Dictionary<ulong, Track> _nextByEnd = new();
    private List<(Track Track, MemoryMapping Mapping)> _next = new();
    private int _generation;
    private long _windowRss;
    private long _windowReferenced;
    private bool _open;

    public AccessTracker(bool perMapping)
    {
        _perMapping = perMapping;
    }

    /// <summary>The windows completed so far.</summary>
    public int WindowCount => _referencedTotals.Count;

    /// <summary>The bytes referenced in each completed window, in total.</summary>
    public IReadOnlyList<long> ReferencedTotals => _referencedTotals;

    /// <summary>The resident bytes, in total, at the end of the last completed window.</summary>
    public long Rss { get; private set; }

    /// <summary>How many mappings the last completed window ended with.</summary>
    public int MappingCount => _current.Count;

    public void BeginWindow()
    {
        if (_open)
        {
            throw new InvalidOperationException("A window is already open.");
        }

        _open = true;
        _generation++;
        _windowRss = 0;
        _windowReferenced = 0;
        _nextByStart = new Dictionary<ulong, Track>(_current.Count);
        _nextByEnd = new Dictionary<ulong, Track>(_current.Count);
        _next = new List<(Track, MemoryMapping)>(_current.Count);
    }

    /// <summary>One mapping as smaps showed it at the end of the window.</summary>
    public void Add(MemoryMapping mapping)
    {
        EnsureOpen();
        _windowRss += mapping.Rss;
        _windowReferenced += mapping.Referenced;
        if (!_perMapping)
        {
            return;
        }

        Track? track = Claim(_byStart, mapping.Start, mapping) ?? Claim(_byEnd, mapping.End, mapping);
        track ??= new Track();
        track.ClaimedIn = _generation;
        _next.Add((track, mapping));
        _nextByStart[mapping.Start] = track;
        _nextByEnd[mapping.End] = track;
    }

    /// <summary>The process's totals for the window, when they come from smaps_rollup instead of from each mapping.</summary>
    public void AddTotals(long rss, long referenced)
    {
        EnsureOpen();
        _windowRss += rss;
        _windowReferenced += referenced;
    }

    public void EndWindow()
    {
        EnsureOpen();
        _open = false;
        _referencedTotals.Add(_windowReferenced);
        Rss = _windowRss;
        _byStart = _nextByStart;
        _byEnd = _nextByEnd;
        _current = new List<Track>(_next.Count);
        foreach ((Track track, MemoryMapping mapping) in _next)
        {
            track.Last = mapping;
            track.Referenced.Add(mapping.Referenced);
            _current.Add(track);
        }
    }

    /// <summary>Abandons an open window (the process exited while it was read): the completed windows stay as they were.</summary>
    public void AbandonWindow()
    {
        _open = false;
        _next = new List<(Track, MemoryMapping)>();
        _nextByStart = new Dictionary<ulong, Track>();
        _nextByEnd = new Dictionary<ulong, Track>();
    }

    /// <summary>One object per mapping as the last window ended, with its figures over the windows it existed in.</summary>
    public IEnumerable<MemoryAccess> Mappings(MappingSelection selection, TimeSpan window)
    {
        if (!_perMapping)
        {
            throw new InvalidOperationException("This tracker keeps only totals.");
        }

        foreach (Track track in _current)
        {
            long[] referenced = track.Referenced.ToArray();
            long workingSet = WorkingSet(referenced);
            yield return new MemoryAccess(track.Last)
            {
                MappingType = selection,
                Window = window,
                WindowCount = referenced.Length,
                ReferencedBytes = referenced,
                WorkingSetBytes = workingSet,
                IdleBytes = Idle(track.Last.Rss, workingSet),
                IdleWindows = TrailingIdleWindows(referenced),
            };
        }
    }

    /// <summary>The process's totals over the completed windows.</summary>
    public ProcessAccess Totals(ProcessStat process, string processName, string bootId, MappingSelection selection, TimeSpan window)
    {
        long[] referenced = _referencedTotals.ToArray();
        long workingSet = WorkingSet(referenced);
        return new ProcessAccess
        {
            ProcessId = process.ProcessId,
            ProcessName = processName,
            ProcessStartTime = process.StartTime,
            BootId = bootId,
            MappingType = selection,
            Window = window,
            WindowCount = referenced.Length,
            Rss = Rss,
            ReferencedBytes = referenced,
            WorkingSetBytes = workingSet,
            IdleBytes = Idle(Rss, workingSet),
        };
    }

    /// <summary>The most bytes referenced in any one window.</summary>
    public static long WorkingSet(IReadOnlyList<long> referenced)
    {
        long most = 0;
        foreach (long r in referenced)
        {
            most = Math.Max(most, r);
        }

        return most;
    }

    /// <summary>
    /// The resident bytes that the busiest window did not reference. smaps gives counts, not
    /// pages: if the same pages are touched in every window this is exactly what no window
    /// touched; if different windows touch different pages, fewer bytes were idle than this.
    /// </summary>
    public static long Idle(long rss, long workingSet) => Math.Max(0, rss - workingSet);

    /// <summary>How many windows, counted back from the last, referenced nothing.</summary>
    public static int TrailingIdleWindows(IReadOnlyList<long> referenced)
    {
        int idle = 0;
        for (int i = referenced.Count - 1; i >= 0 && referenced[i] == 0; i--)
        {
            idle++;
        }

        return idle;
    }

    // A track continues at most one mapping: of a mapping split in two, the part that keeps the
    // start (or, growing down, the end) continues it and the other starts afresh.
    private Track? Claim(Dictionary<ulong, Track> previous, ulong key, MemoryMapping mapping)
    {
        if (!previous.TryGetValue(key, out Track? track) || track.ClaimedIn == _generation || !SameBacking(track.Last, mapping))
        {
            return null;
        }

        return track;
    }

    private static bool SameBacking(MemoryMapping a, MemoryMapping b) =>
        a.Kind == b.Kind && a.Inode == b.Inode && string.Equals(a.Device, b.Device, StringComparison.Ordinal) &&
        string.Equals(a.Path, b.Path, StringComparison.Ordinal);

    private void EnsureOpen()
    {
        if (!_open)
        {
            throw new InvalidOperationException("No window is open.");
        }
    }

    private sealed class Track
    {
        public MemoryMapping Last = null!;
        public int ClaimedIn;
        public readonly List<long> Referenced = new();
    }
}
