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
using System.Threading;

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

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true)]
    private static partial int open_bytes(byte* path, int flags, int mode);

    // map-file-hex HEX: maps the file whose path is these bytes (any byte but NUL; a name need not
    // be UTF-8) shared and read-only, reads its first page, answers "mapped 0xSTART LENGTH".
    private static string MapFileHex(string hex)
    {
        byte[] path = Convert.FromHexString(hex + "00");
        int fd;
        fixed (byte* p = path) { fd = open_bytes(p, 0, 0); }
        if (fd < 0) throw new InvalidOperationException($"open failed: errno {Marshal.GetLastPInvokeError()}");
        const long length = 4096; // the tests write files of one page
        IntPtr address = Map(length, 1, 1, fd);
        close(fd);
        _ = *(byte*)address;
        return $"mapped 0x{address:x} {length}";
    }

    private static IntPtr Map(long length, int prot, int flags, int fd)
    {
        IntPtr address = mmap(IntPtr.Zero, (nuint)length, prot, flags, fd, 0);
        if (address == new IntPtr(-1))
        {
            throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return address;
    }

    private static void Fill(IntPtr address, long length, ulong seed)
    {
        ulong* words = (ulong*)address;
        long count = length / 8;
        for (long i = 0; i < count; i++)
        {
            words[i] = (ulong)i * 0x9E3779B97F4A7C15UL ^ seed;
        }
    }

    private static void Add(string name, IntPtr address, long length)
    {
        s_regions[name] = (address, length);
        s_order.Add(name);
    }

    private static void AddAnonymous(string name, long length)
    {
        IntPtr address = Map(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        Fill(address, length, 1);
        Add(name, address, length);
    }

    private static void AddFile(string name, string path, long length, bool shared)
    {
        var pattern = new byte[1 << 20];
        fixed (byte* p = pattern)
        {
            Fill((IntPtr)p, pattern.Length, 2);
        }

        s_files.Add(path);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            for (long written = 0; written < length; written += pattern.Length)
            {
                file.Write(pattern, 0, (int)Math.Min(pattern.Length, length - written));
            }

            file.Flush(flushToDisk: true);
        }

        int fd = open(path, O_RDWR, 0);
        IntPtr address = Map(length, shared ? PROT_READ | PROT_WRITE : PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd);
        close(fd);
        Touch(address, length);
        Add(name, address, length);
    }

    private static void AddMemfd(string name, long length)
    {
        int fd = memfd_create("madvps-target", 0);
        ftruncate(fd, length);
        IntPtr address = Map(length, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
        close(fd);
        Fill(address, length, 3);
        Add(name, address, length);
    }

    // Three anonymous mappings in a row, the middle one locked: "lockedbefore", "locked", "lockedafter".
    private static void AddLocked(long length)
    {
        long total = length * 3;
        IntPtr address = Map(total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        Fill(address, total, 4);
        // Differing protections keep the three from merging into one VMA.
        mprotect(address, (nuint)length, PROT_READ);
        mprotect(address + (nint)(2 * length), (nuint)length, PROT_READ);
        if (mlock(address + (nint)length, (nuint)length) != 0)
        {
            throw new InvalidOperationException($"mlock failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Add("lockedbefore", address, length);
        Add("locked", address + (nint)length, length);
        Add("lockedafter", address + (nint)(2 * length), length);
    }

    // An anonymous region that starts on a 2 MiB boundary, for Collapse.
    private static void AddHugeAligned(string name, long length)
    {
        const long huge = 2 << 20;
        IntPtr reserve = Map(length + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        long aligned = ((long)reserve + huge - 1) & ~(huge - 1);
        // Trim the reservation so that the mapping is exactly the aligned region.
        if (aligned > (long)reserve) munmap(reserve, (nuint)(aligned - (long)reserve));
        long tail = (long)reserve + length + huge - (aligned + length);
        if (tail > 0) munmap((IntPtr)(aligned + length), (nuint)tail);
        Fill((IntPtr)aligned, length, 5);
        Add(name, (IntPtr)aligned, length);
    }

    // COUNT mappings: one reservation whose pages alternate between readable-writable and
    // inaccessible, so that no two neighbours merge.
    private static void AddManyMappings(string name, int count)
    {
        long length = count * s_pageSize;
        IntPtr address = Map(length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        for (long page = 0; page < count; page += 2)
        {
            IntPtr at = address + (nint)(page * s_pageSize);
            mprotect(at, (nuint)s_pageSize, PROT_READ | PROT_WRITE);
            *(long*)at = page;
        }

        Add(name, address, length);
    }

    // COUNT one-page mappings of one file of COUNT pages, private and read-only, in one
    // reservation: page i maps the file's page COUNT-1-i, so that no two neighbours' offsets follow
    // on and none merge. Every page is read in (file pages PageOut can take without swap).
    private static void AddManyFileMappings(string name, string path, int count)
    {
        long length = count * s_pageSize;
        AddFile(name + "-whole", path, length, shared: false);
        int fd = open(path, O_RDWR, 0);
        IntPtr address = Map(length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        for (long page = 0; page < count; page++)
        {
            IntPtr at = address + (nint)(page * s_pageSize);
            if (mmap(at, (nuint)s_pageSize, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (count - 1 - page) * s_pageSize) != at)
            {
                throw new InvalidOperationException($"mmap MAP_FIXED failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        close(fd);
        (IntPtr whole, long _) = s_regions[name + "-whole"];
        munmap(whole, (nuint)length);
        s_regions.Remove(name + "-whole");
        s_order.Remove(name + "-whole");
        Touch(address, length);
        Add(name, address, length);
    }

    private static ulong Checksum(string[] names)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (string name in names)
        {
            if (name is "many" or "reserve") continue;
            (IntPtr address, long length) = s_regions[name];
            ulong* words = (ulong*)address;
            for (long i = 0; i < length / 8; i++)
            {
                hash = (hash ^ words[i]) * 0x100000001b3UL;
            }
        }

        return hash;
    }

    private static long Resident(string name)
    {
        (IntPtr address, long length) = s_regions[name];
        long pages = length / s_pageSize;
        var vector = new byte[pages];
        fixed (byte* v = vector)
        {
            if (mincore(address, (nuint)length, v) != 0)
            {
                throw new InvalidOperationException($"mincore failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        long resident = 0;
        foreach (byte b in vector)
        {
            if ((b & 1) != 0) resident++;
        }

        return resident * s_pageSize;
    }

    private static void Touch(string name)
    {
        (IntPtr address, long length) = s_regions[name];
        FlushTlb(name, address, length);
        Touch(address, length);
    }

    private static readonly Dictionary<string, int> s_protections = new()
    {
        ["file"] = PROT_READ,
        ["lockedbefore"] = PROT_READ,
        ["lockedafter"] = PROT_READ,
        ["many"] = -1,
        ["filemany"] = -1,
        ["reserve"] = -1,
    };

    // clear_refs clears the accessed bits but flushes no TLB (fs/proc/task_mmu.c, clear_refs_write),
    // so a read through a translation a CPU still caches would leave its page "unreferenced".
    // mprotect to PROT_NONE and back rewrites the entries (keeping their accessed bits) and flushes.
    private static void FlushTlb(string name, IntPtr address, long length)
    {
        int prot = s_protections.TryGetValue(name, out int p) ? p : PROT_READ | PROT_WRITE;
        // Never while touch-loop reads the region from its thread: it would fault on PROT_NONE.
        if (prot < 0 || (s_touching && s_loopRegion == name)) return;
        if (mprotect(address, (nuint)length, PROT_NONE) != 0 || mprotect(address, (nuint)length, prot) != 0)
        {
            throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static long s_sink;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int madvise(IntPtr addr, nuint length, int advice);

    // MADV_NOHUGEPAGE first, so that a write faults in one page and not a 2 MiB folio (THP "always").
    private static long TouchEvery(string name, long every)
    {
        const int MADV_NOHUGEPAGE = 15;
        (IntPtr address, long length) = s_regions[name];
        if (madvise(address, (nuint)length, MADV_NOHUGEPAGE) != 0)
        {
            throw new InvalidOperationException($"madvise(NOHUGEPAGE) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        long touched = 0;
        for (long offset = 0; offset < length; offset += every * s_pageSize, touched++)
        {
            ((byte*)address)[offset] = 1;
        }

        return touched;
    }

    private static void Touch(IntPtr address, long length)
    {
        long sum = 0;
        for (long offset = 0; offset < length; offset += s_pageSize)
        {
            sum += *(byte*)(address + (nint)offset);
        }

        Interlocked.Add(ref s_sink, sum);
    }

    private static void StartTouchLoop(string name, int milliseconds)
    {
        (IntPtr address, long length) = s_regions[name];
        s_loopRegion = name;
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                Touch(address, length);
                Thread.Sleep(milliseconds);
            }
        })
        { IsBackground = true };
        thread.Start();
    }

    // touch-loop over a part of a region: "touch-loop-part REGION FROM TO MS" (byte offsets).
    private static void StartTouchLoopPart(string[] words)
    {
        (IntPtr address, long length) = s_regions[words[1]];
        long from = long.Parse(words[2], CultureInfo.InvariantCulture);
        long to = Math.Min(length, long.Parse(words[3], CultureInfo.InvariantCulture));
        int milliseconds = int.Parse(words[4], CultureInfo.InvariantCulture);
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                Touch(address + (nint)from, to - from);
                Thread.Sleep(milliseconds);
            }
        })
        { IsBackground = true };
        thread.Start();
        Console.WriteLine("looping");
    }

    private static readonly object s_statsLock = new();
    private static long s_passes, s_passTicks, s_maxPassTicks;

    // touch-loop with the time of each pass kept: "touch-loop-timed REGION MS".
    private static void StartTimedTouchLoop(string[] words)
    {
        (IntPtr address, long length) = s_regions[words[1]];
        int milliseconds = int.Parse(words[2], CultureInfo.InvariantCulture);
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                Touch(address, length);
                long ticks = System.Diagnostics.Stopwatch.GetTimestamp() - start;
                lock (s_statsLock)
                {
                    s_passes++;
                    s_passTicks += ticks;
                    s_maxPassTicks = Math.Max(s_maxPassTicks, ticks);
                }

                Thread.Sleep(milliseconds);
            }
        })
        { IsBackground = true };
        thread.Start();
        Console.WriteLine("looping");
    }

    private static string TakeLoopStats()
    {
        lock (s_statsLock)
        {
            double us = 1e6 / System.Diagnostics.Stopwatch.Frequency;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"stats {s_passes} {(s_passes > 0 ? s_passTicks * us / s_passes : 0):0.0} {s_maxPassTicks * us:0.0}");
            s_passes = s_passTicks = s_maxPassTicks = 0;
            return line;
        }
    }

    private const int MAP_FIXED = 0x10;
    private static volatile bool s_churning;

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execv(string path, IntPtr[] argv);

    // Another file at the same address: MAP_FIXED replaces the old mapping in one step.
    private static void Remap(string name, string path)
    {
        (IntPtr address, long length) = s_regions[name];
        var pattern = new byte[length];
        fixed (byte* p = pattern)
        {
            Fill((IntPtr)p, length, 6);
        }

        File.WriteAllBytes(path, pattern);
        int fd = open(path, O_RDWR, 0);
        IntPtr at = mmap(address, (nuint)length, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
        close(fd);
        if (at != address)
        {
            throw new InvalidOperationException($"mmap MAP_FIXED failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Touch(address, length);
        Console.WriteLine("remapped");
    }

    private static void StartChurn()
    {
        s_churning = true;
        var thread = new Thread(() =>
        {
            while (s_churning)
            {
                IntPtr address = mmap(IntPtr.Zero, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (address != new IntPtr(-1))
                {
                    *(long*)address = 1;
                    munmap(address, 1 << 20);
                }
            }
        })
        { IsBackground = true, Name = "churn" };
        thread.Start();
        Console.WriteLine("churning");
    }

    private static void Exec(string[] words)
    {
        Console.WriteLine("exec");
        Console.Out.Flush();
        var argv = new IntPtr[words.Length + 1];
        for (int i = 0; i < words.Length; i++)
        {
            argv[i] = Marshal.StringToCoTaskMemUTF8(words[i]);
        }

        execv(words[0], argv);
        throw new InvalidOperationException($"execv failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private sealed class Options
    {
        public long AnonMiB, FileMiB, SharedFileMiB, MemfdMiB, LockedMiB, HugeMiB, ReserveMiB;
        public int Mappings, FileMappings;
        public string? Directory;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string value = i + 1 < args.Length ? args[i + 1] : "0";
                switch (args[i])
                {
                    case "--anon-mib": o.AnonMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--file-mib": o.FileMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--shared-file-mib": o.SharedFileMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--memfd-mib": o.MemfdMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--locked-mib": o.LockedMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--huge-mib": o.HugeMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--reserve-mib": o.ReserveMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--mappings": o.Mappings = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--file-mappings": o.FileMappings = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--dir": o.Directory = value; i++; break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }

            return o;
        }
    }
}
