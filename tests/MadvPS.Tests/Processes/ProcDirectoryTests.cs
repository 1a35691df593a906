using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

// Every reader of a process's /proc files goes through one ProcDirectory: a /proc/PID directory
// descriptor, bound to the process and not to its PID.
public class ProcDirectoryTests
{
    private static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    [Fact]
    [Trait("Needs", "Process")]
    public void ThePathThroughTheDescriptorReadsTheProcessesOwnFiles()
    {
        using Process sleeper = Sleeper();
        try
        {
            using ProcDirectory directory = ProcDirectory.Open(sleeper.Id);
            Assert.StartsWith("/proc/self/fd/", directory.Path);
            Assert.Equal(File.ReadAllBytes($"/proc/{sleeper.Id}/cmdline"), File.ReadAllBytes($"{directory.Path}/cmdline"));
            Assert.Equal(new FileInfo($"/proc/{sleeper.Id}/exe").LinkTarget, new FileInfo($"{directory.Path}/exe").LinkTarget);
            Assert.Equal(
                Directory.GetDirectories($"/proc/{sleeper.Id}/task").Select(Path.GetFileName).Order(),
                Directory.GetDirectories($"{directory.Path}/task").Select(Path.GetFileName).Order());
            Assert.Equal(ProcessStat.TryRead(sleeper.Id)!.Value.StartTime, directory.ReadStat()!.Value.StartTime);
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    [Fact]
    [Trait("Needs", "Process")]
    public void AReapedProcessCannotBeReadThroughItsDirectory()
    {
        using Process sleeper = Sleeper();
        ProcessStat stat = ProcessStat.TryRead(sleeper.Id)!.Value;
        using ProcDirectory directory = ProcDirectory.Open(stat);
        sleeper.Kill();
        sleeper.WaitForExit();

        Assert.Null(directory.ReadStat());
        Assert.False(directory.IsAlive());
        // The kernel answers ESRCH for every file, through openat and through the path alike.
        var error = Assert.ThrowsAny<IOException>(() => File.ReadAllBytes($"{directory.Path}/cmdline"));
        Assert.Equal(3, error.HResult); // ESRCH
        var exited = Assert.Throws<ProcessAccessException>(() => MappingReader.ReadMappings(directory, stat, "sleep").ToList());
        Assert.Equal(ProcessAccessFailure.Exited, exited.Failure);
        Assert.Equal(ProcessAccessFailure.Exited, Assert.Throws<ProcessAccessException>(() => directory.OpenRollup(stat)).Failure);
        // Opened again by the stat read before the exit: the PID is free, so no process has it.
        Assert.Equal(ProcessAccessFailure.NotFound, Assert.Throws<ProcessAccessException>(() => ProcDirectory.Open(stat)).Failure);
    }

    [Fact]
    [Trait("Needs", "Process")]
    public void AStatWithAnotherStartTimeIsRefusedAsAnotherProcess()
    {
        using Process sleeper = Sleeper();
        try
        {
            ProcessStat stat = ProcessStat.TryRead(sleeper.Id)!.Value;
            ProcessStat earlier = stat with { StartTime = stat.StartTime - 1 };
            var refused = Assert.Throws<ProcessAccessException>(() => ProcDirectory.Open(earlier));
            Assert.Equal(ProcessAccessFailure.Exited, refused.Failure);
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }
}
