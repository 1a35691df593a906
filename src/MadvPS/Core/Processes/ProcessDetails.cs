using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace MadvPS.Core;

/// <summary>
/// What tells processes of the same name apart, and the kernel's own RSS split: the command
/// line (/proc/PID/cmdline), the owner (the real UID of /proc/PID/status, named from
/// /etc/passwd) and RssAnon, RssFile, RssShmem of /proc/PID/status. Two small reads, no page walk.
/// </summary>
internal static class ProcessDetails
{
    /// <summary>Fills CommandLine, UserId, UserName, RssAnon, RssFile and RssShmem; leaves what cannot be read empty.</summary>
    public static void Fill(ProcessMemory totals) => Fill(totals, $"/proc/{totals.ProcessId}");

    /// <summary><see cref="Fill(ProcessMemory)"/> through a directory the caller holds.</summary>
    public static void Fill(ProcessMemory totals, ProcDirectory directory) => Fill(totals, directory.Path);

    private static void Fill(ProcessMemory totals, string processDirectory)
    {
        totals.CommandLine = ReadCommandLine(processDirectory);
        try
        {
            foreach (string line in File.ReadLines($"{processDirectory}/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    string[] ids = line.Substring(4).Split('\t', StringSplitOptions.RemoveEmptyEntries);
                    if (ids.Length > 0 && int.TryParse(ids[0], NumberStyles.None, CultureInfo.InvariantCulture, out int uid))
                    {
                        totals.UserId = uid;
                        totals.UserName = UserName(uid);
                    }
                }
                else if (Kib(line, "RssAnon:") is long anon)
                {
                    totals.RssAnon = anon;
                }
                else if (Kib(line, "RssFile:") is long file)
                {
                    totals.RssFile = file;
                }
                else if (Kib(line, "RssShmem:") is long shmem)
                {
                    totals.RssShmem = shmem;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process exited between smaps_rollup and status: the totals stand without these.
        }
    }

    /// <summary>The arguments joined by spaces, as ps -o args prints them; "" for a kernel thread or an unreadable one.</summary>
    public static string ReadCommandLine(int processId) => ReadCommandLine($"/proc/{processId}");

    private static string ReadCommandLine(string processDirectory)
    {
        try
        {
            byte[] bytes = File.ReadAllBytes($"{processDirectory}/cmdline");
            return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static long? Kib(string line, string key)
    {
        if (!line.StartsWith(key, StringComparison.Ordinal))
        {
            return null;
        }

        string value = line.Substring(key.Length).Trim();
        int space = value.IndexOf(' ');
        return long.TryParse(space < 0 ? value : value.Substring(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out long kib) ? kib * 1024 : null;
    }

    private static readonly object s_lock = new();
    private static Dictionary<int, string>? s_users;

    /// <summary>The name of a UID from /etc/passwd (read once per session), or the number when it has none there.</summary>
    internal static string UserName(int uid)
    {
        lock (s_lock)
        {
            if (s_users is null)
            {
                s_users = new Dictionary<int, string>();
                try
                {
                    foreach (string line in File.ReadLines("/etc/passwd"))
                    {
                        string[] fields = line.Split(':');
                        if (fields.Length > 2 && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                        {
                            s_users.TryAdd(id, fields[0]);
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // No /etc/passwd: numbers only.
                }
            }

            return s_users.TryGetValue(uid, out string? name) ? name : uid.ToString(CultureInfo.InvariantCulture);
        }
    }
}
