using System;
using System.Globalization;
using System.IO;

namespace MadvPS.Core;

/// <summary>
/// What tells one program of a process from the next after an exec(2), which keeps the PID and
/// the start time: the executable (/proc/PID/exe) and where the new mm put its code and stack
/// (/proc/PID/stat fields 26 start_code, 27 end_code and 28 start_stack). With address space
/// randomisation the stack, and for a PIE the code, move at every exec, so even the same program
/// exec'd again gives another value; without it (setarch -R) the same program exec'd again looks
/// the same. Empty when it cannot be read (those fields read 0 without ptrace read access).
/// </summary>
internal static class ExecutableIdentity
{
    public static string Read(int processId)
    {
        try
        {
            using ProcDirectory directory = ProcDirectory.Open(processId);
            return Read(directory);
        }
        catch (ProcessAccessException)
        {
            return "";
        }
    }

    public static string Read(ProcDirectory directory)
    {
        try
        {
            if ((directory.StatAtOpen ?? directory.ReadText("stat")) is not string stat)
            {
                return "";
            }

            int close = stat.LastIndexOf(')');
            string[] fields = stat.Substring(close + 2).Split(' ');
            // Field N of stat(5) is fields[N - 3] after the command.
            ulong startCode = ulong.Parse(fields[26 - 3], CultureInfo.InvariantCulture);
            ulong endCode = ulong.Parse(fields[27 - 3], CultureInfo.InvariantCulture);
            ulong startStack = ulong.Parse(fields[28 - 3], CultureInfo.InvariantCulture);
            if (startCode == 0 && startStack == 0)
            {
                return "";
            }

            string exe = new FileInfo($"{directory.Path}/exe").LinkTarget ?? "";
            return string.Create(CultureInfo.InvariantCulture, $"{exe} code {startCode:x}-{endCode:x} stack {startStack:x}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or OverflowException)
        {
            return "";
        }
    }
}
