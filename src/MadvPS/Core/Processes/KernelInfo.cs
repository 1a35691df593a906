using System;
using System.Globalization;
using System.IO;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>The facts of the running kernel and of the calling process that decide what advice can do.</summary>
internal static class KernelInfo
{

    private static Version? s_version;

    /// <summary>The running kernel's version (the numeric part of /proc/sys/kernel/osrelease).</summary>
    public static Version Version => s_version ??= ParseRelease(File.ReadAllText("/proc/sys/kernel/osrelease"));

    public static string Release => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    internal static Version ParseRelease(string release)
    {
        var parts = new int[3];
        int part = 0;
        foreach (char c in release.Trim())
        {
            if (char.IsAsciiDigit(c))
            {
                parts[part] = parts[part] * 10 + (c - '0');
            }
            else if (c == '.' && part < 2)
            {
                part++;
            }
            else
            {
                break;
            }
        }

        return new Version(parts[0], parts[1], parts[2]);
    }

    /// <summary>SwapTotal from /proc/meminfo, in bytes.</summary>
    public static long SwapTotal => MeminfoBytes("SwapTotal:");

    public static long SwapFree => MeminfoBytes("SwapFree:");

    /// <summary>The bracketed mode of /sys/kernel/mm/transparent_hugepage/enabled (always, madvise or never).</summary>
    public static string TransparentHugePages
    {
        get
        {
            try
            {
                string text = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
                int open = text.IndexOf('[');
                int close = text.IndexOf(']');
                return open >= 0 && close > open ? text.Substring(open + 1, close - open - 1) : text.Trim();
            }
            catch (IOException)
            {
                return "unavailable";
            }
        }
    }

    /// <summary>
    /// Whether this kernel has process_madvise (5.10, CONFIG_ADVISE_SYSCALLS): a call with no
    /// range on the caller's own pidfd advises nothing and answers ENOSYS only when it is missing.
    /// </summary>
    public static bool ProcessMadviseAvailable
    {
        get
        {
            try
            {
                using SafePidfdHandle self = Libc.PidfdOpen(Environment.ProcessId);
                return Libc.ProcessMadvise(self, ReadOnlySpan<IoVec>.Empty, (int)MemoryAdvice.Cold).Errno != (int)Errno.ENOSYS;
            }
            catch (LinuxErrorException)
            {
                return false;
            }
        }
    }

    public static bool HasCapSysNice => Capabilities.ThreadHas(Capabilities.SysNice);

    public static bool HasCapSysAdmin => Capabilities.ThreadHas(Capabilities.SysAdmin);

    public static bool HasCapSysPtrace => Capabilities.ThreadHas(Capabilities.SysPtrace);

    /// <summary>MemAvailable from /proc/meminfo, in bytes: the kernel's estimate of what can be allocated without swapping.</summary>
    public static long MemAvailable => MeminfoBytes("MemAvailable:");

    /// <summary>
    /// The caller's side of the kernel's ptrace read check (which guards smaps, maps, pagemap and
    /// process_madvise), as far as the caller can tell; Commands/FailureText.cs words a refusal from it.
    /// </summary>
    public static PtraceFacts Ptrace => new(HasCapSysPtrace, Environment.UserName == "root");

    private static long MeminfoBytes(string key)
    {
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                ReadOnlySpan<char> value = line.AsSpan(key.Length).Trim();
                int space = value.IndexOf(' ');
                return long.Parse(space < 0 ? value : value.Slice(0, space), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}

/// <summary>What the caller has for the ptrace read check: CAP_SYS_PTRACE, and whether it is root.</summary>
internal readonly record struct PtraceFacts(bool HasCapSysPtrace, bool IsRoot);
