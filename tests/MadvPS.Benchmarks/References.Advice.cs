using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using MadvPS.Core;
using MadvPS.Interop;

namespace MadvPS.Benchmarks;

// The module's advice against its floors: bare calls, the plan, and the live check beside them.
public static partial class References
{
    /// <summary>
    /// One process_madvise call per range (a range over MAX_RW_COUNT takes one call per
    /// MAX_RW_COUNT, since the kernel cuts each call there).
    /// </summary>
    public static ReferenceRun AdviseEachRange(int processId, ulong[] starts, long[] lengths, int advice)
    {
        using SafePidfdHandle pidfd = Libc.PidfdOpen(processId);
        long callsBefore = Libc.ProcessMadviseCalls;
        long bytes = 0;
        Span<IoVec> one = stackalloc IoVec[1];
        double cpu = ThreadCpuMilliseconds();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < starts.Length; i++)
        {
            ulong start = starts[i];
            long left = lengths[i];
            while (left > 0)
            {
                long length = Math.Min(left, AdviceBatcher.MaxBytesPerCall);
                one[0] = new IoVec { Base = (nuint)start, Length = (nuint)length };
                long advised = Libc.ProcessMadvise(pidfd, one, advice).Value;
                if (advised > 0)
                {
                    bytes += advised;
                }

                start += (ulong)length;
                left -= length;
            }
        }

        double elapsed = clock.Elapsed.TotalMilliseconds;
        cpu = ThreadCpuMilliseconds() - cpu;
        return new ReferenceRun { Milliseconds = elapsed, CpuMilliseconds = cpu, Calls = Libc.ProcessMadviseCalls - callsBefore, Bytes = bytes, Count = starts.Length };
    }

    /// <summary>
    /// The fewest calls: the ranges packed as the module packs them (AdvicePacker.Pack: at most
    /// 1024 iovecs and MAX_RW_COUNT bytes a call), prepared before the clock starts; only the
    /// calls are timed.
    /// </summary>
    public static ReferenceRun AdviseBare(int processId, ulong[] starts, long[] lengths, int advice)
    {
        var ranges = new AdviceRange[starts.Length];
        for (int i = 0; i < ranges.Length; i++)
        {
            ranges[i] = new AdviceRange(starts[i], lengths[i]);
        }

        IoVec[][] calls = AdvicePacker.System.PackCalls(ranges);
        using SafePidfdHandle pidfd = Libc.PidfdOpen(processId);
        long callsBefore = Libc.ProcessMadviseCalls;
        long bytes = 0;
        double cpu = ThreadCpuMilliseconds();
        var clock = Stopwatch.StartNew();
        foreach (IoVec[] call in calls)
        {
            long advised = Libc.ProcessMadvise(pidfd, call, advice).Value;
            if (advised > 0)
            {
                bytes += advised;
            }
        }

        double elapsed = clock.Elapsed.TotalMilliseconds;
        cpu = ThreadCpuMilliseconds() - cpu;
        return new ReferenceRun { Milliseconds = elapsed, CpuMilliseconds = cpu, Calls = Libc.ProcessMadviseCalls - callsBefore, Bytes = bytes, Count = starts.Length };
    }

    /// <summary>
    /// Set-ProcessMadvise's core without PowerShell and without the smaps_rollup reads before and
    /// after: list the mappings (AdviceMappings), then AdvicePlan.Execute. Milliseconds is the time
    /// of Execute alone, the module's counterpart of <see cref="AdviseBare"/>.
    /// </summary>
    public static ReferenceRun AdviseWithPlan(int processId, int advice) => AdviseWithPlan(processId, advice, checkLive: false);

    /// <param name="checkLive">Also check the ranges against the live address space, as
    /// Invoke-MemoryAdvice does (AdvicePlan.ExecuteChecked: maps read beside the calls); its time
    /// is counted in Milliseconds.</param>
    public static ReferenceRun AdviseWithPlan(int processId, int advice, bool checkLive) =>
        AdviseChecked(processId, advice, checkLive ? 2 : 0, identities: false);

    /// <summary>
    /// The ranges of every mapping (kernel pages aside) advised through an AdvicePlan, timed from
    /// after the listing: <paramref name="check"/> 0 sends them unchecked (AdvicePlan.Execute);
    /// 1 checks them all against one read of maps first, then sends them (the check as it was
    /// before issue 14's overlap: LiveMappings.Read, LiveMappings.Check, Execute); 2 checks each
    /// call's ranges as maps is read beside the calls (AdvicePlan.ExecuteChecked, what
    /// Invoke-MemoryAdvice does).
    /// </summary>
    /// <param name="identities">Give each range its mapping's identity (permissions, device,
    /// inode, offset, path), as the objects Get-MemoryMapping pipes in carry; else only its bounds.</param>
    public static ReferenceRun AdviseChecked(int processId, int advice, int check, bool identities) =>
        AdviseChecked(processId, advice, check, identities, 0, ulong.MaxValue);

    /// <summary>
    /// <see cref="AdviseChecked(int, int, int, bool)"/> of the mappings that lie in [<paramref name="from"/>,
    /// <paramref name="to"/>) only (with identities): one region of the target, not the runtime's own mappings.
    /// </summary>
    public static ReferenceRun AdviseChecked(int processId, int advice, int check, bool identities, ulong from, ulong to)
    {
        var clock = Stopwatch.StartNew();
        ProcessStat stat = MappingReader.Describe(processId);
        using ProcessHandle handle = ProcessHandle.Open(processId, stat.StartTime, expectedBootId: null);
        var plan = new AdvicePlan((MemoryAdvice)advice);
        string source = "maps";
        if (identities)
        {
            foreach (SmapsEntry e in MappingReader.ReadMapsEntries(handle.Stat))
            {
                if (MappingKinds.Selects(MappingSelection.All, e.Kind) && e.Start >= from && e.End <= to)
                {
                    plan.Add(e.Start, (long)(e.End - e.Start), e.Path, null, e.Kind, new MappingIdentity(e.Permissions, e.Device, e.Inode, e.Offset, e.Path));
                }
            }
        }
        else
        {
            source = AdviceMappings.Collect(handle.Stat, stat.Command, MappingSelection.All, plan).ToString();
        }

        double listed = clock.Elapsed.TotalMilliseconds;
        long callsBefore = Libc.ProcessMadviseCalls;
        double cpu = ThreadCpuMilliseconds();
        double processCpu = ProcessCpuMilliseconds();
        clock.Restart();
        switch (check)
        {
            case 0:
                plan.Execute(handle, null, null, null);
                break;
            case 1:
                List<LiveVma> vmas = LiveMappings.Read(handle.Stat);
                foreach (PlannedRange range in plan.Ranges)
                {
                    if (range.Skip is null)
                    {
                        LiveMappings.Check(range, vmas);
                    }
                }

                plan.Execute(handle, null, null, null);
                break;
            default:
                plan.ExecuteChecked(handle, null, null, null);
                break;
        }

        double elapsed = clock.Elapsed.TotalMilliseconds;
        cpu = ThreadCpuMilliseconds() - cpu;
        processCpu = ProcessCpuMilliseconds() - processCpu;
        long bytes = 0, changed = 0;
        foreach (PlannedRange range in plan.Ranges)
        {
            bytes += range.Outcome.BytesAdvised;
            changed += range.Changes is null ? 0 : 1;
        }

        return new ReferenceRun
        {
            Milliseconds = elapsed,
            CpuMilliseconds = cpu,
            ProcessCpuMilliseconds = processCpu,
            ListMilliseconds = listed,
            Calls = Libc.ProcessMadviseCalls - callsBefore,
            Bytes = bytes,
            Count = plan.RangesToSend,
            Source = changed == 0 ? source : $"{source}; {changed} range(s) changed",
        };
    }

    /// <summary>
    /// Milliseconds to read the VMAs of /proc/PID/maps: <paramref name="how"/> 0 by LiveMappings.Read
    /// (read-ahead thread), 1 through LiveMapsFeed with nothing to do beside it (its hand-over cost),
    /// 2 by the parser on this thread alone.
    /// </summary>
    public static double ReadVmas(int processId, int how)
    {
        ProcessStat stat = MappingReader.Describe(processId);
        var clock = Stopwatch.StartNew();
        if (how == 1)
        {
            using var feed = new LiveMapsFeed(stat);
            feed.WaitFor(ulong.MaxValue);
        }
        else if (how == 2)
        {
            foreach (SmapsEntry e in MappingReader.ReadMapsEntries(stat, readAhead: false))
            {
                GC.KeepAlive(e);
            }
        }
        else
        {
            LiveMappings.Read(stat);
        }

        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// Wall ms of one PROCMAP_QUERY a VMA (COVERING_OR_NEXT_VMA from address 0 to the last VMA):
    /// the cost of listing every VMA by ioctl instead of by one read of maps, with no parse.
    /// </summary>
    public static ReferenceRun QueryEveryVma(int processId)
    {
        ProcessStat stat = MappingReader.Describe(processId);
        using ProcDirectory directory = ProcDirectory.Open(stat);
        using Microsoft.Win32.SafeHandles.SafeFileHandle maps = directory.OpenHandle("maps");
        byte[] name = new byte[4097];
        var clock = Stopwatch.StartNew();
        double cpu = ThreadCpuMilliseconds();
        ulong at = 0;
        long count = 0;
        while (Libc.ProcmapQuery(maps, at, Libc.PROCMAP_QUERY_COVERING_OR_NEXT_VMA, name, out ProcmapQueryArgs vma).Errno == 0)
        {
            at = vma.VmaEnd;
            count++;
        }

        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, CpuMilliseconds = ThreadCpuMilliseconds() - cpu, Count = count };
    }

    /// <summary>
    /// Thread CPU ms (least of <paramref name="repetitions"/>) of MapsParser (the entry parser
    /// LiveMapsFeed and LiveMappings.Read read maps with) over maps text held in memory: the
    /// parse alone, without the kernel's printing.
    /// </summary>
    public static double ParseMapsCpu(byte[] text, int repetitions)
    {
        double best = double.MaxValue;
        for (int r = 0; r < repetitions; r++)
        {
            double t = ThreadCpuMilliseconds();
            var parser = new MapsParser(new MemoryStream(text, writable: false));
            while (parser.TryReadEntry(out SmapsEntry e))
            {
                GC.KeepAlive(e);
            }

            best = Math.Min(best, ThreadCpuMilliseconds() - t);
        }

        return best;
    }

    /// <summary>
    /// Thread CPU (least of 10) of LiveMappings.Check over every VMA of the process as a range with
    /// its identity, in address order with the cursor: the check's own cost, without the read.
    /// </summary>
    public static string CheckCpu(int processId)
    {
        ProcessStat stat = MappingReader.Describe(processId);
        var plan = new AdvicePlan(MemoryAdvice.Cold);
        foreach (SmapsEntry e in MappingReader.ReadMapsEntries(stat))
        {
            plan.Add(e.Start, (long)(e.End - e.Start), e.Path, null, e.Kind, new MappingIdentity(e.Permissions, e.Device, e.Inode, e.Offset, e.Path));
        }

        List<LiveVma> vmas = LiveMappings.Read(stat);
        double best = double.MaxValue;
        for (int r = 0; r < 10; r++)
        {
            double t = ThreadCpuMilliseconds();
            int cursor = -1;
            foreach (PlannedRange range in plan.Ranges)
            {
                LiveMappings.Check(range, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(vmas), ref cursor);
            }

            best = Math.Min(best, ThreadCpuMilliseconds() - t);
        }

        return $"{plan.Ranges.Count} ranges {vmas.Count} vmas: {best:0.0} ms";
    }

    /// <summary>
    /// AdviseChecked(check 0) while a second thread of this process keeps busy: reading
    /// /proc/PID/<paramref name="file"/> in a loop, or only spinning when it is "spin". Whether a
    /// second thread can run beside the calls at all on this machine, and what the kernel's
    /// printing of maps beside them costs the calls.
    /// </summary>
    public static ReferenceRun AdviseBesideReads(int processId, int advice, string file) =>
        AdviseBesideReads(processId, advice, file, 0, ulong.MaxValue);

    /// <summary><see cref="AdviseBesideReads(int, int, string)"/> of the mappings in [<paramref name="from"/>, <paramref name="to"/>) only.</summary>
    public static ReferenceRun AdviseBesideReads(int processId, int advice, string file, ulong from, ulong to)
    {
        using var stop = new System.Threading.ManualResetEventSlim();
        var t = new System.Threading.Thread(() =>
        {
            while (!stop.IsSet)
            {
                if (file == "spin")
                {
                    System.Threading.Thread.SpinWait(1000);
                }
                else
                {
                    ReadFile($"/proc/{processId}/{file}");
                }
            }
        });
        t.Start();
        System.Threading.Thread.Sleep(5);
        ReferenceRun run = AdviseChecked(processId, advice, 0, true, from, to);
        stop.Set();
        t.Join();
        return run;
    }
}
