using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace MadvPS.Target;

// Changes to the address space on request (remap, churn, exec), and the options.
internal static unsafe partial class Program
{
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
