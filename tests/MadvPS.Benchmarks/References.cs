using System;
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
        double cpu = ThreadCpuMilliseconds();
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

        return new ReferenceRun { Milliseconds = clock.Elapsed.TotalMilliseconds, CpuMilliseconds = ThreadCpuMilliseconds() - cpu, Bytes = total };
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
