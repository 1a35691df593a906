using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace MadvPS.Tests;

/// <summary>tests/MadvPS.Target started for a test (build.ps1 Test sets MADVPS_TARGET), with its regions.</summary>
internal sealed class TargetProcess : IDisposable
{
    private readonly Process _process;

    private TargetProcess(Process process, Dictionary<string, (ulong Start, ulong Length)> regions)
    {
        _process = process;
        Regions = regions;
    }

    public int ProcessId => _process.Id;
    public IReadOnlyDictionary<string, (ulong Start, ulong Length)> Regions { get; }

    public static TargetProcess Start(string arguments)
    {
        string target = Environment.GetEnvironmentVariable("MADVPS_TARGET")
            ?? throw new InvalidOperationException("MADVPS_TARGET is not set: run the tests with build.ps1 Test, which builds the target program and names it.");
        var info = new ProcessStartInfo("dotnet", $"\"{target}\" {arguments}")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        Process process = Process.Start(info)!;
        var regions = new Dictionary<string, (ulong, ulong)>();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null && line != "ready")
        {
            string[] words = line.Split(' ');
            if (words[0] == "region")
            {
                regions[words[1]] = (ulong.Parse(words[2].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture), ulong.Parse(words[3], CultureInfo.InvariantCulture));
            }
        }

        if (line is null)
        {
            process.Kill();
            throw new InvalidOperationException($"The target ({arguments}) exited before it was ready.");
        }

        return new TargetProcess(process, regions);
    }

    /// <summary>Sends one command and returns its one-line answer.</summary>
    public string Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        string answer = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"The target exited on '{command}'.");
        if (answer.StartsWith("error", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The target answered '{answer}' to '{command}'.");
        }

        return answer;
    }

    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}

/// <summary>
/// The test's own reading of /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst), kept
/// apart from the module's: bit 63 present, 62 swapped, 61 file page or shared anonymous, 58
/// guard region, 56 exclusively mapped.
/// </summary>
internal static class IndependentPagemap
{
    public readonly record struct Page(string State, bool Exclusive, bool File);

    public static ulong[] Words(int processId, ulong start, ulong length)
    {
        long pageSize = Environment.SystemPageSize;
        var words = new ulong[(long)length / pageSize];
        var bytes = new byte[words.Length * 8];
        using var file = new FileStream($"/proc/{processId}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        file.Seek((long)(start / (ulong)pageSize) * 8, SeekOrigin.Begin);
        file.ReadExactly(bytes);
        Buffer.BlockCopy(bytes, 0, words, 0, bytes.Length);
        return words;
    }

    public static Page Decode(ulong word)
    {
        bool present = (word >> 63 & 1) == 1;
        bool swapped = (word >> 62 & 1) == 1 && (word >> 58 & 1) == 0;
        string state = present ? "Resident" : swapped ? "Swapped" : "Absent";
        return new Page(state, present && (word >> 56 & 1) == 1, (present || swapped) && (word >> 61 & 1) == 1);
    }

    public static Page[] Pages(int processId, ulong start, ulong length) => Array.ConvertAll(Words(processId, start, length), Decode);
}
