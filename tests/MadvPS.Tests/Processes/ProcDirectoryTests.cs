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
    // A process in do_exit drops its address space (exit_mm, then exit_mmap frees its pages)
    // before exit_notify makes it a zombie; stat says R or D all that while. dd holding 1 GiB
    // takes a while to free it after SIGKILL: the window the test reads in. A read of
    // smaps_rollup that fails there with ESRCH is the process exiting, never a terminating error
    // (it was, once in some hundred vanishing processes of Reliability.Tests.ps1).
    [Fact]
    [Trait("Needs", "Process")]
    public void AProcessWhoseAddressSpaceIsBeingFreedIsExited()
    {
        // dd fills its 1 GiB buffer, then blocks writing it to a pipe nobody reads: one thread.
        using Process dd = Process.Start(new ProcessStartInfo("dd", "if=/dev/zero bs=1G count=1 status=none") { UseShellExecute = false, RedirectStandardOutput = true })!;
        try
        {
            var waited = Stopwatch.StartNew();
            while (ResidentKib(dd.Id) < 1 << 20 && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                System.Threading.Thread.Sleep(10);
            }

            Assert.True(ResidentKib(dd.Id) >= 1 << 20, "dd did not fill its 1 GiB buffer in 30 s");
            ProcessStat stat = ProcessStat.TryRead(dd.Id)!.Value;
            using ProcDirectory directory = ProcDirectory.Open(stat);
            using FileStream openedWhileAlive = directory.OpenRollup(stat)!;
            dd.Kill();

            // Nothing of dd's is read until its task has no mm: a read that holds the mm (stat
            // and status take a reference while they print) when exit_mm drops dd's own would
            // make the reader free the 1 GiB, and dd's window would close at once. Once task->mm
            // is NULL (status has no VmRSS line) no read takes one.
            System.Threading.Thread.Sleep(50);
            while (ResidentKib(dd.Id) > 0 && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                System.Threading.Thread.Sleep(20);
            }

            (char stateBefore, uint flagsBefore) = StateAndFlags(dd.Id);
            Assert.True(stateBefore is 'R' or 'D', $"dd is {stateBefore} already: the window is over before it could be read");
            Assert.NotEqual(0u, flagsBefore & 0x4);
            Assert.Equal(0, ResidentKib(dd.Id));

            Assert.False(directory.IsAlive());
            var atRead = Assert.Throws<ProcessAccessException>(() => MappingReader.ReadRollup(directory, openedWhileAlive, stat, "dd"));
            Assert.Equal(ProcessAccessFailure.Exited, atRead.Failure);
            var atOpen = Assert.Throws<ProcessAccessException>(() => MappingReader.ReadRollup(directory, stat, "dd"));
            Assert.Equal(ProcessAccessFailure.Exited, atOpen.Failure);
            var mappings = Assert.Throws<ProcessAccessException>(() => MappingReader.ReadMappings(directory, stat, "dd").ToList());
            Assert.Equal(ProcessAccessFailure.Exited, mappings.Failure);

            // Still in the window after the reads: they were made while stat said R or D.
            (char stateAfter, _) = StateAndFlags(dd.Id);
            Assert.True(stateAfter is 'R' or 'D', $"dd became {stateAfter} during the reads: they may not have met the window");
        }
        finally
        {
            if (!dd.HasExited)
            {
                dd.Kill();
            }

            dd.WaitForExit();
        }
    }

    // VmRSS of status in KiB; 0 when the task has no mm (status leaves the Vm lines out) or is gone.
    private static long ResidentKib(int processId)
    {
        try
        {
            return File.ReadLines($"/proc/{processId}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture))
                .FirstOrDefault();
        }
        catch (IOException)
        {
            return 0;
        }
    }

    // Field 3 (state) and field 9 (flags) of proc_pid_stat(5), decoded here and not by ProcessStat.
    private static (char State, uint Flags) StateAndFlags(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (IOException)
        {
            return ('-', 0);
        }

        string[] fields = text.Substring(text.LastIndexOf(')') + 2).Split(' ');
        return (fields[0][0], uint.Parse(fields[9 - 3], System.Globalization.CultureInfo.InvariantCulture));
    }
}
