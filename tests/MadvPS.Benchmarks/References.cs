using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using MadvPS.Core;
using MadvPS.Interop;

namespace MadvPS.Benchmarks;

/// <summary>What one reference run did: its time, and for advice the calls made and bytes advised.</summary>
public sealed class ReferenceRun
{
    public double Milliseconds { get; init; }
    /// <summary>CPU time of the calling thread over the same span (user and kernel).</summary>
    public double CpuMilliseconds { get; init; }
    /// <summary>CPU time of the whole process over the same span (every thread, user and kernel); set by AdviseChecked.</summary>
    public double ProcessCpuMilliseconds { get; init; }
    public long Calls { get; init; }
    public long Bytes { get; init; }
    public long Count { get; init; }
    /// <summary>For the module's advice: the time to list the mappings, before the calls.</summary>
    public double ListMilliseconds { get; init; }
    public string Source { get; init; } = "";
}

/// <summary>
/// The references the cmdlets are timed against, run inside the benchmark's pwsh so that both
/// pay the same runtime: a plain read of a /proc file, the module's parser without PowerShell,
/// and process_madvise calls with nothing around them.
/// </summary>
public static partial class References
{
    [System.Runtime.InteropServices.LibraryImport("libc.so.6")]
    private static partial int clock_gettime(int clock, out Timespec time);

    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>CPU time of the calling thread in milliseconds (CLOCK_THREAD_CPUTIME_ID), user and kernel.</summary>
    public static double ThreadCpuMilliseconds()
    {
        clock_gettime(3, out Timespec t);
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }

    /// <summary>CPU time of the whole process in milliseconds (CLOCK_PROCESS_CPUTIME_ID), all threads.</summary>
    public static double ProcessCpuMilliseconds()
    {
        clock_gettime(2, out Timespec t);
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }

    private const int BlockSize = 128 * 1024;

    /// <summary>Reads the file to its end in 128 KiB reads and throws the bytes away.</summary>
    public static ReferenceRun ReadFile(string path)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[BlockSize];
        long total = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0))
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
            }
        }

        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, Bytes = total };
    }

    /// <summary>Plain reads of /proc/PID/FILE of every process, one after the other; a process that is gone or refuses is passed over.</summary>
    public static ReferenceRun ReadEach(int[] processIds, string file) => ReadEach(processIds, file, parallelism: 1);

    /// <summary>The same plain reads, <paramref name="parallelism"/> at a time: the floor of a parallel read.</summary>
    public static ReferenceRun ReadEach(int[] processIds, string file, int parallelism)
    {
        var clock = Stopwatch.StartNew();
        long total = 0, count = 0;
        System.Threading.Tasks.Parallel.ForEach(
            processIds,
            new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = parallelism },
            () => (Buffer: new byte[BlockSize], Bytes: 0L, Count: 0L),
            (id, _, local) =>
            {
                try
                {
                    using var stream = new FileStream($"/proc/{id}/{file}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                    int read;
                    while ((read = stream.Read(local.Buffer, 0, local.Buffer.Length)) > 0)
                    {
                        local.Bytes += read;
                    }

                    local.Count++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }

                return local;
            },
            local =>
            {
                System.Threading.Interlocked.Add(ref total, local.Bytes);
                System.Threading.Interlocked.Add(ref count, local.Count);
            });
        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, Bytes = total, Count = count };
    }

    /// <summary>The module's core (MappingReader.ReadRollup) over every process, one after the other, without PowerShell.</summary>
    public static ReferenceRun ReadRollupsSequentially(int[] processIds)
    {
        var clock = Stopwatch.StartNew();
        long count = 0;
        foreach (int id in processIds)
        {
            try
            {
                ProcessStat stat = MappingReader.Describe(id);
                if (MappingReader.ReadRollup(stat, ProcessNames.Resolve(id, stat.Command)) is not null)
                {
                    count++;
                }
            }
            catch (ProcessAccessException)
            {
            }
        }

        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, Count = count };
    }

    /// <summary>The module's parser on the file, without objects or PowerShell.</summary>
    public static ReferenceRun Parse(string path, bool readAhead)
    {
        var clock = Stopwatch.StartNew();
        long count = 0;
        using (Stream stream = MappingReader.OpenStream(path, readAhead))
        {
            var parser = new SmapsParser(stream);
            while (parser.TryReadEntry(out _))
            {
                count++;
            }
        }

        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, Count = count };
    }

    /// <summary>The module's reader (parser and MemoryMapping objects), without PowerShell.</summary>
    public static ReferenceRun ReadMappings(int processId)
    {
        var clock = Stopwatch.StartNew();
        long count = 0;
        ProcessStat stat = MappingReader.Describe(processId);
        foreach (MemoryMapping mapping in MappingReader.ReadMappings(stat, stat.Command))
        {
            count++;
        }

        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, Count = count };
    }

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
    public static ReferenceRun AdviseChecked(int processId, int advice, int check, bool identities)
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
                if (MappingKinds.Selects(MappingSelection.All, e.Kind))
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
    public static ReferenceRun AdviseBesideReads(int processId, int advice, string file)
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
        ReferenceRun run = AdviseChecked(processId, advice, 0, true);
        stop.Set();
        t.Join();
        return run;
    }

    /// <summary>The bytes one MemoryMapping object takes on the managed heap.</summary>
    public static long MemoryMappingSize()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var mapping = new MemoryMapping();
        long after = GC.GetAllocatedBytesForCurrentThread();
        GC.KeepAlive(mapping);
        return after - before;
    }

    /// <summary>
    /// The parser alone over text in memory: the least thread CPU time of <paramref name="repetitions"/>
    /// parses, in ms. CPU time of one thread is what a busy machine disturbs least.
    /// </summary>
    public static double ParseCpu(byte[] text, int repetitions, bool objects)
    {
        double best = double.MaxValue;
        ProcessStat self = MappingReader.Describe(Environment.ProcessId);
        for (int i = 0; i < repetitions; i++)
        {
            double start = ThreadCpuMilliseconds();
            var parser = new SmapsParser(new MemoryStream(text, writable: false));
            long count = 0;
            while (parser.TryReadEntry(out SmapsEntry entry))
            {
                if (objects)
                {
                    count += MappingReader.ToMapping(entry, self, "bench", "boot").Size > 0 ? 1 : 0;
                }
            }

            best = Math.Min(best, ThreadCpuMilliseconds() - start);
        }

        return best;
    }

    /// <summary>Thread CPU ms of AdviceBatcher.Pack over the ranges (least of 20), and of a run of Advise against a kernel that does nothing.</summary>
    public static string PackCpu(ulong[] starts, long[] lengths)
    {
        var ranges = new AdviceRange[starts.Length];
        for (int i = 0; i < ranges.Length; i++)
        {
            ranges[i] = new AdviceRange(starts[i], lengths[i]);
        }

        double pack = double.MaxValue, advise = double.MaxValue;
        for (int r = 0; r < 20; r++)
        {
            double t = ThreadCpuMilliseconds();
            AdvicePacker.System.Pack(ranges.AsSpan());
            pack = Math.Min(pack, ThreadCpuMilliseconds() - t);
            var batcher = new AdviceBatcher(iovecs =>
            {
                long sum = 0;
                foreach (IoVec v in iovecs.Span) sum += (long)v.Length;
                return (sum, 0);
            }, null);
            t = ThreadCpuMilliseconds();
            batcher.Advise(ranges);
            advise = Math.Min(advise, ThreadCpuMilliseconds() - t);
        }

        return $"pack {pack:F2} ms, advise with a no-op kernel {advise:F2} ms";
    }

    /// <summary>Where the listing's time goes: thread CPU ms of a plain read of maps, of reading its entries, and of AdviceMappings.Collect.</summary>
    public static string ListingBreakdown(int processId)
    {
        ProcessStat stat = MappingReader.Describe(processId);
        double read = double.MaxValue, entries = double.MaxValue, collect = double.MaxValue, wall = double.MaxValue;
        for (int r = 0; r < 9; r++)
        {
            double t = ThreadCpuMilliseconds();
            ReadFile($"/proc/{processId}/maps");
            read = Math.Min(read, ThreadCpuMilliseconds() - t);
            t = ThreadCpuMilliseconds();
            using (ProcDirectory directory = ProcDirectory.Open(stat))
            {
                foreach (SmapsEntry _ in MappingReader.ReadMapsEntries(directory, stat))
                {
                }
            }

            entries = Math.Min(entries, ThreadCpuMilliseconds() - t);
            t = ThreadCpuMilliseconds();
            var clock = Stopwatch.StartNew();
            AdviceMappings.Collect(stat, "x", MappingSelection.All, new AdvicePlan(MemoryAdvice.Cold));
            wall = Math.Min(wall, clock.Elapsed.TotalMilliseconds);
            collect = Math.Min(collect, ThreadCpuMilliseconds() - t);
        }

        return $"maps read {read:F1}, entries {entries:F1}, collect {collect:F1} (wall {wall:F1}) ms";
    }
}
