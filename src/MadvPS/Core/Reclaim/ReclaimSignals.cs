using System;
using System.Globalization;
using System.IO;

namespace MadvPS.Core;

/// <summary>
/// The system's memory pressure: /proc/pressure/memory (PSI, Linux 4.20). Its "some" line's
/// total= is the microseconds during which at least one task waited on memory (reclaim,
/// compaction, refaults of evicted working-set pages), so its change over a step divided by the
/// step's wall time is the share of the step stalled.
/// </summary>
internal static class PressureSignal
{
    public const string Path = "/proc/pressure/memory";

    /// <summary>The "some" total in microseconds, or null when PSI is missing or disabled (psi=0).</summary>
    public static long? ReadSomeTotal()
    {
        try
        {
            return TryParseSomeTotal(File.ReadAllText(Path), out long total) ? total : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Reads total= of the "some" line: "some avg10=0.00 avg60=0.00 avg300=0.00 total=12244".</summary>
    public static bool TryParseSomeTotal(string text, out long total)
    {
        total = 0;
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith("some ", StringComparison.Ordinal))
            {
                continue;
            }

            int at = line.IndexOf("total=", StringComparison.Ordinal);
            return at >= 0 && long.TryParse(line.AsSpan(at + 6).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out total);
        }

        return false;
    }

    /// <summary>The share of <paramref name="wall"/>, in percent, that the "some" total grew by.</summary>
    public static double Percent(long stalledMicroseconds, TimeSpan wall) =>
        wall <= TimeSpan.Zero ? 0 : Math.Max(0, stalledMicroseconds) / (wall.TotalMilliseconds * 1000) * 100;
}

/// <summary>
/// A process's page faults: /proc/PID/stat field 10 (minflt) and 12 (majflt). A page paged out
/// whose folio is still in the swap cache comes back as a minor fault, so refaults are both.
/// </summary>
internal static class FaultSignal
{
    public static (long Minor, long Major) Parse(string statText)
    {
        int close = statText.LastIndexOf(')');
        if (close < 0 || close + 2 >= statText.Length)
        {
            throw new FormatException("/proc/PID/stat is not in the form 'pid (comm) state ...'.");
        }

        // Fields after the command start at field 3 (state): minflt is field 10, majflt field 12.
        string[] fields = statText.Substring(close + 2).Split(' ');
        if (fields.Length < 10)
        {
            throw new FormatException("/proc/PID/stat has fewer than 12 fields.");
        }

        return (long.Parse(fields[10 - 3], NumberStyles.None, CultureInfo.InvariantCulture),
                long.Parse(fields[12 - 3], NumberStyles.None, CultureInfo.InvariantCulture));
    }

    /// <summary>Reads the faults through the process's /proc directory; null once it is reaped.</summary>
    public static (long Minor, long Major)? Read(ProcDirectory directory)
    {
        try
        {
            using FileStream stream = directory.OpenRead("stat");
            using var reader = new StreamReader(stream);
            return Parse(reader.ReadToEnd());
        }
        catch (Interop.LinuxErrorException e) when (e.Errno is Interop.Errno.ESRCH or Interop.Errno.ENOENT)
        {
            return null;
        }
        catch (IOException e) when (e.HResult is (int)Interop.Errno.ESRCH or (int)Interop.Errno.ENOENT)
        {
            return null;
        }
    }
}
