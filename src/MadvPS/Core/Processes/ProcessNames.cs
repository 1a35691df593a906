using System;
using System.IO;

namespace MadvPS.Core;

internal static class ProcessNames
{
    private const int TaskCommLength = 15;

    /// <summary>
    /// The process name as Get-Process shows it: the kernel's comm, which is cut at 15 bytes
    /// (TASK_COMM_LEN), completed from argv[0] when that starts with it.
    /// </summary>
    public static string Resolve(int processId, string command) => Resolve($"/proc/{processId}", command);

    /// <summary><see cref="Resolve(int, string)"/> through a directory the caller holds.</summary>
    public static string Resolve(ProcDirectory directory, string command) => Resolve(directory.Path, command);

    private static string Resolve(string processDirectory, string command)
    {
        if (command.Length < TaskCommLength)
        {
            return command;
        }

        try
        {
            byte[] cmdline = File.ReadAllBytes($"{processDirectory}/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            string argv0 = System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            string name = Path.GetFileName(argv0);
            return name.StartsWith(command, StringComparison.Ordinal) ? name : command;
        }
        catch (IOException)
        {
            return command;
        }
        catch (UnauthorizedAccessException)
        {
            return command;
        }
    }
}
