using System;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The sentences users read for each structured failure of the core. The expected texts are the
/// ones the core itself wrote before the words moved to Commands/FailureText.cs, letter for letter.
/// </summary>
public class FailureTextTests
{
    private static string Text(ProcessAccessException e) => FailureText.Of(e);

    [Fact]
    public void NotFoundSaysHowToCheckTheId()
    {
        Assert.Equal("No process or thread has the ID 77. Check it with Get-Process, or 'ps -eL' for thread IDs.",
            Text(ProcessAccessException.NotFound(77)));
        Assert.Equal("No process has the ID 77.",
            Text(new ProcessAccessException(ProcessAccessFailure.NotFound, 77) { Activity = ProcessActivity.ReadingPages }));
    }

    [Fact]
    public void AnExitIsToldByWhatWasBeingDone()
    {
        Assert.Equal("Process 5 has exited.", Text(new ProcessAccessException(ProcessAccessFailure.Exited, 5)));
        Assert.Equal("Process 5 (sleep) has exited.", Text(new ProcessAccessException(ProcessAccessFailure.Exited, 5) { ProcessName = "sleep" }));
        Assert.Equal("Process 5 (sleep) exited while its mappings were read; what was read before may be incomplete.",
            Text(new ProcessAccessException(ProcessAccessFailure.Exited, 5) { ProcessName = "sleep", Activity = ProcessActivity.ReadingMappings }));
        Assert.Equal("Process 5 (sleep) exited during the measurement, after 3 complete window(s). Nothing is written for it: its mappings are gone.",
            Text(new ProcessAccessException(ProcessAccessFailure.Exited, 5) { ProcessName = "sleep", Activity = ProcessActivity.Measuring, WindowCount = 3 }));
        Assert.Equal("Process 5 exited while its pages were read, at 0x7f00; the runs before that address were written, nothing after it.",
            Text(new ProcessAccessException(ProcessAccessFailure.Exited, 5) { Activity = ProcessActivity.ReadingPages, Address = 0x7f00 }));
    }

    [Fact]
    public void APtraceRefusalSaysWhatIsMissingOrThatNothingIs()
    {
        var without = new PtraceFacts(HasCapSysPtrace: false, IsRoot: false);
        var root = new PtraceFacts(HasCapSysPtrace: true, IsRoot: true);
        Assert.Equal("Access to /proc/9/smaps was denied: reading another user's process, or one that is not dumpable, needs ptrace read access: run as the same user (within the Yama ptrace_scope), or with CAP_SYS_PTRACE (root has it).",
            Text(new ProcessAccessException(ProcessAccessFailure.PermissionDenied, 9) { File = "smaps", Ptrace = without }));
        Assert.Equal("Access to /proc/9/smaps of process 9 (db) was denied: this caller already has CAP_SYS_PTRACE and is root, so no capability is missing: the kernel's ptrace check refuses process 9 for another reason, a security module (Yama, SELinux, AppArmor, Landlock) or a process that is not dumpable in a user namespace this caller holds no capability in. Read it from inside its own namespace or container, or see the security module's log. Nothing was cleared.",
            Text(new ProcessAccessException(ProcessAccessFailure.PermissionDenied, 9) { File = "smaps", ProcessName = "db", Activity = ProcessActivity.Measuring, Ptrace = root }));
        Assert.StartsWith("this caller already has CAP_SYS_PTRACE, so", FailureText.PtraceDenial(new PtraceFacts(true, false), 9));
        Assert.Equal("Access to /proc/9/pagemap was denied: reading another user's process needs ptrace read access (run as root or with CAP_SYS_PTRACE, or as the process's own user within the Yama ptrace_scope, /proc/sys/kernel/yama/ptrace_scope).",
            Text(new ProcessAccessException(ProcessAccessFailure.PermissionDenied, 9) { File = "pagemap", Activity = ProcessActivity.ReadingPages, Ptrace = without }));
    }

    [Fact]
    public void AnIdentityMismatchNamesBothValuesAndWhatWasNotDone()
    {
        string here = $"this host ({Environment.MachineName}) is in boot b2";
        ProcessAccessException Boot(string expected, string? readOn, ProcessActivity activity) => new(ProcessAccessFailure.IdentityChanged, 4)
        {
            Mismatch = IdentityCheck.BootId,
            Expected = expected,
            Found = "b2",
            ReadOn = readOn,
            Activity = activity,
        };
        Assert.Equal($"The object for process 4 has an empty BootId, so the host and boot it was read in cannot be checked; {here}. Nothing was advised: read the mappings again on this host.",
            Text(Boot("", null, ProcessActivity.Advising)));
        Assert.Equal($"The object for process 4 was read in boot b1, but {here}: it was read on another host or before a reboot. No page was read: read the mappings again on this host.",
            Text(Boot("b1", null, ProcessActivity.ReadingPages)));
        Assert.Equal($"The object for process 4 was read on web7 in boot b1, but {here}: it was read on another host or before a reboot. Nothing was advised: advise it on the host it was read on (Invoke-Command -HostName web7 {{ $using:mappings | Invoke-MemoryAdvice ... }}), or read the mappings again here.",
            Text(Boot("b1", "web7", ProcessActivity.Advising)));
        Assert.Equal("Process 4 is no longer the process that was read: that one started at tick 100 after boot, the process now at PID 4 (cat) at tick 200. No page was read; read its mappings again.",
            Text(new ProcessAccessException(ProcessAccessFailure.IdentityChanged, 4)
            {
                Mismatch = IdentityCheck.StartTime,
                Expected = "100",
                Found = "200",
                ProcessName = "cat",
                Activity = ProcessActivity.ReadingPages,
            }));
        Assert.Equal("Process 4 has run another program (exec) since its mappings were read: it runs /bin/b, it ran /bin/a. Nothing was advised; read its mappings again.",
            Text(new ProcessAccessException(ProcessAccessFailure.IdentityChanged, 4)
            {
                Mismatch = IdentityCheck.Executable,
                Expected = "/bin/a",
                Found = "/bin/b",
                Activity = ProcessActivity.Advising,
            }));
        Assert.Equal("The object for process 4 was read in another PID namespace (pid:[11]); this session is in pid:[12], where PID 4 names another process or none. Nothing was advised: advise it from inside that namespace (nsenter --target <its PID here> --pid --mount pwsh), or read the mappings again here.",
            Text(new ProcessAccessException(ProcessAccessFailure.OtherPidNamespace, 4) { Mismatch = IdentityCheck.PidNamespace, Expected = "11", Found = "12" }));
    }

    [Fact]
    public void ProcessesWithoutMemoryAndFailedCallsAreToldAsSuch()
    {
        Assert.Equal("Process 2 (kthreadd) is a kernel thread: it has no user memory to read or advise. Nothing was sent.",
            Text(new ProcessAccessException(ProcessAccessFailure.KernelThread, 2) { ProcessName = "kthreadd" }));
        Assert.Equal("Process 8 (z) is a zombie: it has exited and its memory is gone; only its parent (PID 7) reaping it removes it. Nothing was read or sent.",
            Text(new ProcessAccessException(ProcessAccessFailure.Zombie, 8) { ProcessName = "z", ParentId = 7 }));
        var failed = new ProcessAccessException(ProcessAccessFailure.SystemError, 8, new Interop.LinuxErrorException("pidfd_open", (int)Interop.Errno.EMFILE, "process 8"));
        Assert.Equal((int)Interop.Errno.EMFILE, failed.Errno);
        Assert.Equal($"A pidfd for process 8 could not be opened: {failed.InnerException!.Message} Nothing was sent.", Text(failed));
        Assert.Equal("Process 3 has no address space (a kernel thread): there is nothing to reclaim.", FailureText.Of(new NoAddressSpaceException(3)));
        Assert.Equal("Writing /proc/6/clear_refs of process 6 (db) was denied: the file belongs to the process's user (to root if the process is not dumpable) and only that user or a caller with CAP_DAC_OVERRIDE may write it. Run as that user or as root. Nothing was cleared.",
            FailureText.Of(new ClearRefsDeniedException(6, "db")));
    }

    [Fact]
    public void PageRangesAndFilesAreWordedFromTheirKind()
    {
        Assert.Equal("0x1000-0x3000: The range wraps past the end of the address space.", FailureText.Of(new PageRangeException(0x1000, 0x2000, PageRangeProblem.Wraps)));
        Assert.Equal("0xffffffffff600000-0xffffffffff601000: The range is outside the user address space (the [vsyscall] page or the kernel's half): pagemap has nothing for it.",
            FailureText.Of(new PageRangeException(0xffffffffff600000, 0x1000, PageRangeProblem.OutsideUserSpace)));
        Assert.Equal("'/x' is a character device, not a regular file: only regular files have page cache to measure or advise. It was not opened.",
            FailureText.Of(new FileCacheException(FileCacheFailure.NotRegularFile, "/x") { FileTypeBits = FileType.CharacterDevice }));
        Assert.Equal("Permission denied: '/x' cannot be opened for reading by this user (open answered EACCES). Run as a user who may read it, or as root.",
            FailureText.Of(new FileCacheException(FileCacheFailure.AccessDenied, "/x", (int)Interop.Errno.EACCES) { SystemCall = "open" }));
        Assert.Equal("posix_fadvise WillNeed failed for '/x'. The file is a pipe or FIFO (ESPIPE).",
            FailureText.Of(new FileCacheException(FileCacheFailure.AdviceFailed, "/x", (int)Interop.Errno.ESPIPE) { Advice = FileAdvice.WillNeed }));
        var mmap = new Interop.LinuxErrorException("mmap", (int)Interop.Errno.ENODEV, "/x");
        Assert.Equal($"'/x' cannot be mapped to measure its page cache with mincore: {mmap.Message}",
            FailureText.Of(new FileCacheException(FileCacheFailure.SystemCallFailed, "/x", mmap.ErrorNumber, mmap) { SystemCall = "mmap" }));
        var statx = new Interop.LinuxErrorException("statx", (int)Interop.Errno.EIO, "/x");
        Assert.Equal(statx.Message, FailureText.Of(new FileCacheException(FileCacheFailure.SystemCallFailed, "/x", statx.ErrorNumber, statx) { SystemCall = "statx" }));
    }

    [Fact]
    public void SmapsDefectsAreToldWithTheirLines()
    {
        Assert.Equal("The entry that starts at line 3 ends before its VmFlags line: the text was cut off (line 9).",
            FailureText.Of(new SmapsFormatException(SmapsDefect.CutOffEntry, 9, 3, "VmFlags")));
        Assert.Equal("The text ends part way through a line: it was cut off (line 4).", FailureText.Of(new SmapsFormatException(SmapsDefect.CutOffLine, 4)));
        Assert.Equal("The smaps entry that starts at line 3 is malformed: its Rss line appears twice (line 5).",
            FailureText.Of(SmapsFormatException.Malformed(3, 5, SmapsDefect.FieldTwice, "Rss")));
        Assert.Equal("The smaps entry that starts at line 1 is malformed: '12x' is not a whole number (line 2).",
            FailureText.Of(SmapsFormatException.Malformed(1, 2, SmapsDefect.NotAWholeNumber, "12x")));
        Assert.Equal("A line is longer than 1024 KiB, which no smaps line is: this is not smaps text (line 1).",
            FailureText.Of(new SmapsFormatException(SmapsDefect.LineTooLong, 1)));

        // Every defect has its own words, never the technical fallback.
        foreach (SmapsDefect defect in Enum.GetValues<SmapsDefect>())
        {
            Assert.DoesNotContain(defect.ToString(), FailureText.Of(SmapsFormatException.Malformed(1, 1, defect, "k")));
        }
    }

    [Fact]
    public void TheKernelsAnswersToAdviceAreWordedWithWhatToDo()
    {
        Assert.Equal("Process 5 has exited.", FailureText.WholeCall(MemoryAdvice.Cold, 5, (int)Interop.Errno.ESRCH));
        Assert.Equal($"The kernel's ptrace access check (PTRACE_MODE_READ) on process 5 failed: {FailureText.PtraceDenial(KernelInfo.Ptrace, 5)}.",
            FailureText.WholeCall(MemoryAdvice.Cold, 5, (int)Interop.Errno.EACCES));
        Assert.Equal("Part of the range is not mapped: the process unmapped or remapped it after it was read. Read the mappings again.",
            FailureText.Range(MemoryAdvice.Cold, KernelError.ENOMEM));
        Assert.Equal("Remove works only on a shared, writable mapping.", FailureText.Range(MemoryAdvice.Remove, (int)Interop.Errno.EACCES));
    }

    [Fact]
    [Trait("Needs", "Process")]
    public void ACmdletsErrorCarriesTheWordsAndTheStructuredFailureBeneath()
    {
        // A PID no task holds: below pid_max, down from the top, with no /proc entry.
        int free = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), System.Globalization.CultureInfo.InvariantCulture) - 1;
        while (Directory.Exists($"/proc/{free}"))
        {
            free--;
        }

        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(typeof(GetMemoryMappingCommand).Assembly.Location);
        using Runspace runspace = RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        using PowerShell ps = PowerShell.Create(runspace);
        ps.AddCommand("Get-MemoryMapping").AddParameter("Id", free).Invoke();

        ErrorRecord error = Assert.Single(ps.Streams.Error);
        Assert.Equal("ProcessNotFound,MadvPS.Commands.GetMemoryMappingCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(nameof(ProcessAccessException), error.CategoryInfo.Reason);
        Assert.Equal($"No process or thread has the ID {free}. Check it with Get-Process, or 'ps -eL' for thread IDs.", error.Exception.Message);
        var failure = Assert.IsType<ProcessAccessException>(error.Exception.InnerException);
        Assert.Equal((ProcessAccessFailure.NotFound, free), (failure.Failure, failure.ProcessId));
    }
}
