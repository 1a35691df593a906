using System;
using System.Collections.Generic;
using System.Linq;

namespace MadvPS.Core;

/// <summary>
/// Collects what the cmdlets wrote (already turned into plain records) into one entry per process
/// and host, then hands out the processes in the order they first came, ready to draw. Records
/// that name a process only by PID (advice results) join the process of that host and PID.
/// </summary>
internal sealed class MemoryMapBuilder
{
    private readonly Dictionary<MapProcessKey, MapProcess> _processes = new();
    private readonly List<MapProcess> _order = new();
    private readonly List<(string Host, int Pid, string Name, MapAdvice Advice)> _advice = new();
    private readonly List<(string Host, int Pid, string Name, string Advice, string Status, long Size, long Advised)> _adviceRanges = new();

    public int Records { get; private set; }

    private MapProcess Process(MapProcessKey key, string name)
    {
        if (!_processes.TryGetValue(key, out MapProcess? process))
        {
            process = new MapProcess(key, name);
            _processes.Add(key, process);
            _order.Add(process);
        }
        else if (process.Name.Length == 0)
        {
            process.Name = name;
        }

        Records++;
        return process;
    }

    /// <summary>A mapping (MemoryMapping, MemoryAccess). A second record of the same start keeps the richer figures of both.</summary>
    public void AddMapping(MapProcessKey key, string name, MapRegion region)
    {
        MapProcess process = Process(key, name);
        if (process.Regions.TryGetValue(region.Start, out MapRegion? known))
        {
            MergeInto(known, region);
        }
        else
        {
            process.Regions.Add(region.Start, region);
        }
    }

    /// <summary>A page summary of one mapping (MemoryPageSummary): its page figures join the mapping of the same start.</summary>
    public void AddPageSummary(MapProcessKey key, string name, MapRegion summary)
    {
        MapProcess process = Process(key, name);
        if (process.Regions.TryGetValue(summary.Start, out MapRegion? known))
        {
            if (!known.FromRuns)
            {
                known.PageResident = summary.PageResident;
                known.PageSwapped = summary.PageSwapped;
                known.PageAbsent = summary.PageAbsent;
                known.PageExclusive = summary.PageExclusive;
            }
        }
        else
        {
            process.Regions.Add(summary.Start, summary);
        }
    }

    public void AddPageRun(MapProcessKey key, string name, MapPageRun run) => Process(key, name).Runs.Add(run);

    public void AddRollup(MapProcessKey key, string name, MapRollup rollup) => Process(key, name).Rollup = rollup;

    public void AddProcessAccess(MapProcessKey key, string name, MapProcessAccess access) => Process(key, name).Access = access;

    /// <summary>A whole-process advice result (ProcessAdviceResult, ReclaimResult), which names the process by PID only.</summary>
    public void AddProcessAdvice(string host, int pid, string name, MapAdvice advice)
    {
        Records++;
        _advice.Add((host, pid, name, advice));
    }

    /// <summary>One range's advice result (AdviceResult); summed per process and advice.</summary>
    public void AddAdviceRange(string host, int pid, string name, string advice, string status, long size, long advised)
    {
        Records++;
        _adviceRanges.Add((host, pid, name, advice, status, size, advised));
    }

    /// <summary>Every process, page runs folded into their mappings and advice attached.</summary>
    public IReadOnlyList<MapProcess> Build()
    {
        foreach (MapProcess process in _order)
        {
            ApplyRuns(process);
        }

        foreach ((string host, int pid, string name, MapAdvice advice) in _advice)
        {
            ByPid(host, pid, name).Advice.Add(advice);
        }

        var sums = new Dictionary<(string, int, string), MapAdvice>();
        foreach (var r in _adviceRanges)
        {
            if (!sums.TryGetValue((r.Host, r.Pid, r.Advice), out MapAdvice? sum))
            {
                sum = new MapAdvice { Advice = r.Advice, Source = "AdviceResult" };
                sums.Add((r.Host, r.Pid, r.Advice), sum);
                ByPid(r.Host, r.Pid, r.Name).Advice.Add(sum);
            }

            sum.RangesRequested++;
            sum.BytesRequested += r.Size;
            sum.BytesAdvised += r.Advised;
            if (r.Status == nameof(AdviceStatus.Skipped) || r.Status == nameof(AdviceStatus.NotSent))
            {
                sum.RangesSkipped++;
                sum.BytesSkipped += r.Size;
            }
            else if (r.Status == nameof(AdviceStatus.Failed))
            {
                sum.RangesFailed++;
                sum.BytesFailed += r.Size - r.Advised;
            }
        }

        return _order;
    }

    private MapProcess ByPid(string host, int pid, string name)
    {
        MapProcess? found = _order.FirstOrDefault(p => p.Key.Host == host && p.Key.ProcessId == pid);
        if (found is null)
        {
            var key = new MapProcessKey(host, pid, 0, "");
            found = new MapProcess(key, name);
            _processes.Add(key, found);
            _order.Add(found);
        }

        return found;
    }

    private static void MergeInto(MapRegion known, MapRegion other)
    {
        if (other.Idle >= 0)
        {
            known.Idle = other.Idle;
            known.IdleWindows = other.IdleWindows;
            known.ReferencedByWindow = other.ReferencedByWindow;
            known.WindowSeconds = other.WindowSeconds;
        }

        if (known.Size == 0)
        {
            known.End = other.End;
            known.Size = other.Size;
        }

        if (known.Permissions.Length == 0)
        {
            known.Permissions = other.Permissions;
            known.Flags = other.Flags;
            known.Rss = other.Rss;
            known.Pss = other.Pss;
            known.Swap = other.Swap;
            known.Anonymous = other.Anonymous;
            known.PrivateBytes = other.PrivateBytes;
            known.SharedBytes = other.SharedBytes;
            known.Referenced = other.Referenced;
        }
    }

    /// <summary>
    /// Page runs set the page figures of the mapping that holds them (they outrank a summary);
    /// runs outside every known mapping become mappings of their own, neighbours of one path joined.
    /// </summary>
    private static void ApplyRuns(MapProcess process)
    {
        if (process.Runs.Count == 0)
        {
            return;
        }

        process.Runs.Sort((a, b) => a.Start.CompareTo(b.Start));
        ulong[] starts = process.Regions.Keys.ToArray();
        Array.Sort(starts);
        MapRegion? loose = null;
        foreach (MapPageRun run in process.Runs)
        {
            long length = (long)(run.End - run.Start);
            int i = Array.BinarySearch(starts, run.Start);
            if (i < 0)
            {
                i = ~i - 1;
            }

            MapRegion? region = i >= 0 ? process.Regions[starts[i]] : null;
            if (region is null || run.Start >= region.End)
            {
                if (loose is null || loose.End != run.Start || loose.Path != run.Path || loose.Kind != run.Kind)
                {
                    loose = new MapRegion { Start = run.Start, End = run.Start, Kind = run.Kind, Path = run.Path, PageResident = 0, PageSwapped = 0, PageAbsent = 0, PageExclusive = 0, FromRuns = true };
                    process.Loose.Add(loose);
                }

                loose.End = run.End;
                loose.Size += length;
                region = loose;
            }
            else if (!region.FromRuns)
            {
                region.FromRuns = true;
                region.PageResident = region.PageSwapped = region.PageAbsent = region.PageExclusive = 0;
            }

            switch (run.State)
            {
                case MapPageState.Resident: region.PageResident += length; break;
                case MapPageState.Swapped: region.PageSwapped += length; break;
                default: region.PageAbsent += length; break;
            }

            if (run.Exclusive)
            {
                region.PageExclusive += length;
            }
        }

        foreach (MapRegion region in process.Loose)
        {
            process.Regions.TryAdd(region.Start, region);
        }

        process.Loose.Clear();
    }
}

/// <summary>One process (on one host) as the map draws it.</summary>
internal sealed class MapProcess
{
    public MapProcess(MapProcessKey key, string name)
    {
        Key = key;
        Name = name;
    }

    public MapProcessKey Key { get; }
    public string Name { get; set; }
    public Dictionary<ulong, MapRegion> Regions { get; } = new();
    public List<MapPageRun> Runs { get; } = new();
    internal List<MapRegion> Loose { get; } = new();
    public MapRollup? Rollup { get; set; }
    public MapProcessAccess? Access { get; set; }
    public List<MapAdvice> Advice { get; } = new();

    /// <summary>The mappings in address order.</summary>
    public List<MapRegion> Sorted()
    {
        var list = Regions.Values.ToList();
        list.Sort((a, b) => a.Start.CompareTo(b.Start));
        return list;
    }
}
