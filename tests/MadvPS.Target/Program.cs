// The target program of MadvPS's tests, demo and benchmarks: a process with known memory.
//
// It maps its regions after it starts (so it owns every page: nothing is shared with a parent
// through fork, and PageOut and Cold may reclaim them), fills them with a pattern, prints one
// line per region and "ready", then answers commands on standard input:
// Regions (options): --anon-mib, --file-mib (private file mapping), --shared-file-mib, --memfd-mib,
// --locked-mib (three mappings, the middle one mlocked), --huge-mib (2 MiB aligned), --mappings N
// (N VMAs), --reserve-mib (mapped, never touched), --file-mappings N (N one-page VMAs of one file,
// private and read-only, read in: "filemany").
//   checksum [REGION]     a 64-bit FNV-1a hash of a region (or of all), read through the mapping
//   resident REGION       bytes of the region resident in RAM (mincore)
//   touch REGION          reads every page of the region again (after flushing this process's TLB
//                         for it, so that every read sets the accessed bit: see FlushTlb)
//   touch-every REGION N  no huge pages for the region, then writes one byte in every N-th page
//   touch-loop REGION MS  keeps reading the region every MS milliseconds, in the background
//   stop-loop             stops touch-loop
//   touch-loop-part REGION FROM TO MS  like touch-loop, over the bytes [FROM, TO) of the region
//   touch-loop-timed REGION MS  like touch-loop, timing each pass; loop-stats prints and resets
//                         "stats PASSES MEAN_US MAX_US" of the passes since the last loop-stats
//   unmap REGION [FROM TO]  unmaps the region, or its bytes [FROM, TO) (to make a hole)
//   remap REGION PATH     maps a new file PATH (created, the region's size) over the region at the same address, read in
//   churn-start           a second thread maps and unmaps 1 MiB of anonymous memory in a loop
//   churn-stop            stops it
//   exec PATH [ARGS]      replaces the program with PATH (execv); answers "exec" first
//   exit                  exits
// Each answer is one line. Region lines are "region NAME 0xSTART LENGTH".
// Files go to --dir, or $MADVPS_TARGET_DIR, or /var/tmp (a disk on most hosts, where /tmp is often
// tmpfs and file advice does nothing), or the temporary folder.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace MadvPS.Target;

internal static unsafe partial class Program
{
    private const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    private const int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private const int O_RDWR = 2;

    private static readonly Dictionary<string, (IntPtr Address, long Length)> s_regions = new();
    private static readonly List<string> s_order = new();
    private static readonly List<string> s_files = new();
    private static volatile bool s_touching;
    private static string? s_loopRegion;
    private static long s_pageSize;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial IntPtr mmap(IntPtr addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int munmap(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mprotect(IntPtr addr, nuint length, int prot);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mlock(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mincore(IntPtr addr, nuint length, byte* vec);

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int close(int fd);

    private static int Main(string[] args)
    {
        s_pageSize = Environment.SystemPageSize;
        var options = Options.Parse(args);
        string directory = options.Directory ?? DefaultDirectory();

        if (options.AnonMiB > 0) AddAnonymous("anon", options.AnonMiB << 20);
        // A name no earlier process can have left behind: a target that is killed (or exec's)
        // keeps its files, and its PID comes round again, perhaps for a target of another user.
        string stem = $"madvps-target-{Environment.ProcessId}-{Guid.NewGuid():n}";
        if (options.FileMiB > 0) AddFile("file", Path.Combine(directory, $"{stem}.data"), options.FileMiB << 20, shared: false);
        if (options.SharedFileMiB > 0) AddFile("sharedfile", Path.Combine(directory, $"{stem}.shared"), options.SharedFileMiB << 20, shared: true);
        if (options.MemfdMiB > 0) AddMemfd("memfd", options.MemfdMiB << 20);
        if (options.LockedMiB > 0) AddLocked(options.LockedMiB << 20);
        if (options.HugeMiB > 0) AddHugeAligned("huge", options.HugeMiB << 20);
        if (options.Mappings > 0) AddManyMappings("many", options.Mappings);
        if (options.FileMappings > 0) AddManyFileMappings("filemany", Path.Combine(directory, $"{stem}.pages"), options.FileMappings);
        if (options.ReserveMiB > 0) Add("reserve", Map(options.ReserveMiB << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1), options.ReserveMiB << 20);

        foreach (string name in s_order)
        {
            (IntPtr address, long length) = s_regions[name];
            Console.WriteLine($"region {name} 0x{(ulong)address:x} {length}");
        }

        Console.WriteLine("ready");
        Console.Out.Flush();

        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            try
            {
                switch (words[0])
                {
                    case "checksum":
                        Console.WriteLine($"checksum {Checksum(words.Length > 1 ? new[] { words[1] } : s_order.ToArray()):x16}");
                        break;
                    case "resident":
                        Console.WriteLine($"resident {Resident(words[1])}");
                        break;
                    case "touch":
                        Touch(words[1]);
                        Console.WriteLine("touched");
                        break;
                    case "touch-every": Console.WriteLine($"touched {TouchEvery(words[1], long.Parse(words[2], CultureInfo.InvariantCulture))}"); break;
                    case "touch-loop":
                        StartTouchLoop(words[1], int.Parse(words[2], CultureInfo.InvariantCulture));
                        Console.WriteLine("looping");
                        break;
                    case "touch-loop-part": StartTouchLoopPart(words); break;
                    case "touch-loop-timed": StartTimedTouchLoop(words); break;
                    case "loop-stats": Console.WriteLine(TakeLoopStats()); break;
                    case "stop-loop":
                        s_touching = false;
                        Console.WriteLine("stopped");
                        break;
                    case "unmap" when words.Length == 4:
                    {
                        (IntPtr address, long length) = s_regions[words[1]];
                        long from = long.Parse(words[2], CultureInfo.InvariantCulture), to = long.Parse(words[3], CultureInfo.InvariantCulture);
                        if (from < 0 || to > length || from >= to) throw new ArgumentException($"{from}-{to} is not inside {words[1]} (0-{length})");
                        munmap(address + (nint)from, (nuint)(to - from));
                        Console.WriteLine("unmapped");
                        break;
                    }
                    case "unmap":
                    {
                        (IntPtr address, long length) = s_regions[words[1]];
                        munmap(address, (nuint)length);
                        s_regions.Remove(words[1]);
                        Console.WriteLine("unmapped");
                        break;
                    }
                    case "remap": Remap(words[1], words[2]); break;
                    case "churn-start": StartChurn(); break;
                    case "churn-stop": s_churning = false; Console.WriteLine("stopped"); break;
                    case "exec": Exec(words[1..]); break;
                    case "map-file-hex": Console.WriteLine(MapFileHex(words[1])); break;
                    case "exit":
                        Cleanup(options, directory);
                        return 0;
                    default:
                        Console.WriteLine($"error unknown command {words[0]}");
                        break;
                }
            }
            catch (Exception e)
            {
                Console.WriteLine($"error {e.Message}");
            }

            Console.Out.Flush();
        }

        Cleanup(options, directory);
        return 0;
    }

    private static string DefaultDirectory()
    {
        string? chosen = Environment.GetEnvironmentVariable("MADVPS_TARGET_DIR");
        if (!string.IsNullOrEmpty(chosen)) return chosen;
        return Directory.Exists("/var/tmp") ? "/var/tmp" : Path.GetTempPath();
    }

    private static void Cleanup(Options options, string directory)
    {
        s_touching = false;
        foreach (string file in s_files)
        {
            try { File.Delete(file); }
            catch (IOException) { }
        }
    }
}
