using System;
using System.Runtime.InteropServices;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// The words users read for the core's failures. The core raises structured failures (a kind,
/// the process or file, the /proc file, the errno, what was expected and what was found); this is
/// the one place that turns them into sentences that say what happened and what to do.
/// </summary>
internal static partial class FailureText
{
    /// <summary>The user's text for any failure: the core's words here, anything else's own message.</summary>
    public static string Of(Exception e) => e switch
    {
        ProcessAccessException p => Of(p),
        FileCacheException f => Of(f),
        PageRangeException r => Of(r),
        SmapsFormatException s => Of(s),
        ClearRefsDeniedException c => Of(c),
        NoAddressSpaceException n => Of(n),
        _ => e.Message,
    };

    public static string Of(ProcessAccessException e)
    {
        int id = e.ProcessId;
        return e.Failure switch
        {
            ProcessAccessFailure.NotFound => e.Activity == ProcessActivity.ReadingPages
                ? $"No process has the ID {id}."
                : $"No process or thread has the ID {id}. Check it with Get-Process, or 'ps -eL' for thread IDs.",
            ProcessAccessFailure.PermissionDenied => Denied(e),
            ProcessAccessFailure.Exited => Exited(e),
            ProcessAccessFailure.IdentityChanged => IdentityChanged(e),
            ProcessAccessFailure.KernelThread =>
                $"Process {id} ({e.ProcessName}) is a kernel thread: it has no user memory to read or advise. Nothing was sent.",
            ProcessAccessFailure.Zombie =>
                $"Process {id} ({e.ProcessName}) is a zombie: it has exited and its memory is gone; only its parent (PID {e.ParentId}) reaping it removes it. Nothing was read or sent.",
            ProcessAccessFailure.OtherPidNamespace =>
                $"The object for process {id} was read in another PID namespace (pid:[{e.Expected}]); this session is in pid:[{e.Found}], where PID {id} names another process or none. Nothing was advised: advise it from inside that namespace (nsenter --target <its PID here> --pid --mount pwsh), or read the mappings again here.",
            ProcessAccessFailure.SystemError =>
                $"A pidfd for process {id} could not be opened: {SystemCall(e.SystemCall ?? "pidfd_open", e.Errno, $"process {id}")} Nothing was sent.",
            _ => e.Message,
        };
    }

    private static string Exited(ProcessAccessException e)
    {
        int id = e.ProcessId;
        if (e.Address is ulong address)
        {
            return $"Process {id} exited while its pages were read, at 0x{address:x}; the runs before that address were written, nothing after it.";
        }

        return e.Activity switch
        {
            ProcessActivity.Measuring =>
                $"Process {id} ({e.ProcessName}) exited during the measurement, after {e.WindowCount} complete window(s). Nothing is written for it: its mappings are gone.",
            ProcessActivity.ReadingMappings =>
                $"Process {id} ({e.ProcessName}) exited while its mappings were read; what was read before may be incomplete.",
            _ when e.ProcessName is null => $"Process {id} has exited.",
            _ => $"Process {id} ({e.ProcessName}) has exited.",
        };
    }

    private static string Denied(ProcessAccessException e)
    {
        int id = e.ProcessId;
        PtraceFacts ptrace = e.Ptrace ?? KernelInfo.Ptrace;
        return e.Activity switch
        {
            ProcessActivity.ReadingPages =>
                $"Access to /proc/{id}/{e.File} was denied: reading another user's process needs ptrace read access (run as root or with CAP_SYS_PTRACE, or as the process's own user within the Yama ptrace_scope, /proc/sys/kernel/yama/ptrace_scope).",
            ProcessActivity.Measuring =>
                $"Access to /proc/{id}/{e.File} of process {id} ({e.ProcessName}) was denied: {PtraceDenial(ptrace, id)}. Nothing was cleared.",
            _ => $"Access to /proc/{id}/{e.File} was denied: {PtraceDenial(ptrace, id)}.",
        };
    }

    private static string IdentityChanged(ProcessAccessException e)
    {
        int id = e.ProcessId;
        string nothing = e.Activity == ProcessActivity.ReadingPages ? "No page was read" : "Nothing was advised";
        switch (e.Mismatch)
        {
            case IdentityCheck.BootId:
                string here = $"this host ({Environment.MachineName}) is in boot {e.Found}";
                if (string.IsNullOrEmpty(e.Expected))
                {
                    return $"The object for process {id} has an empty BootId, so the host and boot it was read in cannot be checked; {here}. {nothing}: read the mappings again on this host.";
                }

                if (string.IsNullOrEmpty(e.ReadOn))
                {
                    return $"The object for process {id} was read in boot {e.Expected}, but {here}: it was read on another host or before a reboot. {nothing}: read the mappings again on this host.";
                }

                return $"The object for process {id} was read on {e.ReadOn} in boot {e.Expected}, but {here}: it was read on another host or before a reboot. {nothing}: advise it on the host it was read on (Invoke-Command -HostName {e.ReadOn} {{ $using:mappings | Invoke-MemoryAdvice ... }}), or read the mappings again here.";
            case IdentityCheck.StartTime:
                return $"Process {id} is no longer the process that was read: that one started at tick {e.Expected} after boot, the process now at PID {id} ({e.ProcessName}) at tick {e.Found}. {nothing}; read its mappings again.";
            case IdentityCheck.Executable:
                return $"Process {id} has run another program (exec) since its mappings were read: it runs {e.Found}, it ran {e.Expected}. {nothing}; read its mappings again.";
            default:
                return $"Process {id} is no longer the process that was read. {nothing}; read its mappings again.";
        }
    }

    /// <summary>
    /// Why the kernel's ptrace read check (which guards smaps, maps and process_madvise) refused
    /// the process, as far as the caller can tell: what is missing, or, for a caller that already
    /// has CAP_SYS_PTRACE, that the refusal comes from elsewhere. A clause, without a full stop.
    /// </summary>
    public static string PtraceDenial(PtraceFacts facts, int processId) => facts.HasCapSysPtrace
        ? $"this caller already has CAP_SYS_PTRACE{(facts.IsRoot ? " and is root" : "")}, so no capability is missing: the kernel's ptrace check refuses process {processId} for another reason, a security module (Yama, SELinux, AppArmor, Landlock) or a process that is not dumpable in a user namespace this caller holds no capability in. Read it from inside its own namespace or container, or see the security module's log"
        : "reading another user's process, or one that is not dumpable, needs ptrace read access: run as the same user (within the Yama ptrace_scope), or with CAP_SYS_PTRACE (root has it)";

    public static string Of(SmapsFormatException e)
    {
        string what = e.Defect switch
        {
            SmapsDefect.CutOffLine => "The text ends part way through a line: it was cut off",
            SmapsDefect.CutOffEntry => $"The entry that starts at line {e.EntryLine} ends before its {e.Key} line: the text was cut off",
            SmapsDefect.NoVmFlagsBeforeNextEntry => $"The entry that starts at line {e.EntryLine} has no VmFlags line before the next entry",
            SmapsDefect.FieldBeforeHeader => "A field appears before any mapping header",
            SmapsDefect.NotAnAddressRange => "A maps line does not start with an address range",
            SmapsDefect.LineTooLong => $"A line is longer than {LineReader.MaxLineLength / 1024} KiB, which no smaps line is: this is not smaps text",
            _ => $"The smaps entry that starts at line {e.EntryLine} is malformed: " + e.Defect switch
            {
                SmapsDefect.LineAfterVmFlags => "a line follows its VmFlags line",
                SmapsDefect.FieldTwice => $"its {e.Key} line appears twice",
                SmapsDefect.NoKey => "a field line has no 'Key:'",
                SmapsDefect.NoSizeBeforeVmFlags => "it has no Size line before its VmFlags",
                SmapsDefect.ProtectionKeyTooLarge => "the ProtectionKey is too large",
                SmapsDefect.NotInKilobytes => $"the {e.Key} value is not in kB",
                SmapsDefect.ValueTooLarge => $"the {e.Key} value is too large",
                SmapsDefect.EndBeforeStart => "its end address lies before its start",
                SmapsDefect.PermissionsNotFourCharacters => "its permissions are not four characters",
                SmapsDefect.DeviceNotMajorMinor => "its device is not a kernel major:minor",
                SmapsDefect.HeaderNotInGrammar => "its header is not 'start-end perms offset major:minor inode name'",
                SmapsDefect.NotAWholeNumber => $"'{e.Key}' is not a whole number",
                _ => e.Defect.ToString(),
            },
        };
        return $"{what} (line {e.LineNumber}).";
    }

    public static string Of(ClearRefsDeniedException e) =>
        $"Writing /proc/{e.ProcessId}/clear_refs of process {e.ProcessId} ({e.ProcessName}) was denied: the file belongs to the process's user (to root if the process is not dumpable) and only that user or a caller with CAP_DAC_OVERRIDE may write it. Run as that user or as root. Nothing was cleared.";

    public static string Of(NoAddressSpaceException e) =>
        $"Process {e.ProcessId} has no address space (a kernel thread): there is nothing to reclaim.";

    public static string Of(PageRangeException e) => $"0x{e.Start:x}-0x{e.Start + e.Length:x}: " + e.Problem switch
    {
        PageRangeProblem.Wraps => "The range wraps past the end of the address space.",
        PageRangeProblem.OutsideUserSpace => "The range is outside the user address space (the [vsyscall] page or the kernel's half): pagemap has nothing for it.",
        PageRangeProblem.OutsideUserSpaceOrReplaced => "pagemap has nothing here: the range is outside the user address space (the [vsyscall] page or the kernel's half), or the process has replaced its address space (exec).",
        PageRangeProblem.AddressSpaceReplaced => "pagemap has nothing here: the process has replaced its address space (exec) since it was opened.",
        _ => e.Message,
    };

    public static string Of(FileCacheException e)
    {
        string path = e.Path;
        int errno = e.ErrorNumber;
        return e.Failure switch
        {
            FileCacheFailure.NotFound => $"'{path}' does not exist. Check the path; a file a process maps may have been deleted or replaced since.",
            FileCacheFailure.AccessDenied => $"Permission denied: '{path}' cannot be opened for reading by this user ({e.SystemCall} answered {KernelError.NameOf(errno)}). Run as a user who may read it, or as root.",
            FileCacheFailure.IsDirectory => $"'{path}' is a directory, not a file. For the files under it, pipe Get-ChildItem -File -Recurse to the command (Get-FileCache also takes -Recurse).",
            FileCacheFailure.NotRegularFile => $"'{path}' is {FileKind(e.FileTypeBits)}, not a regular file: only regular files have page cache to measure or advise. It was not opened.",
            FileCacheFailure.Hugetlbfs => $"'{path}' is on hugetlbfs: its memory is huge pages, not page cache, so there is nothing to measure or advise (cachestat answers EOPNOTSUPP). Look at it with Get-MemoryMapping (SharedHugetlb, PrivateHugetlb) or /sys/kernel/mm/hugepages.",
            FileCacheFailure.PageCacheHidden => $"The kernel does not show the page cache of '{path}' to this user: it shows it only to the file's owner, to CAP_FOWNER, or to a user who may write the file (cachestat answers EPERM; mincore would claim every page cached). Run as the owner or as root.",
            FileCacheFailure.PlatformNotSupported => $"Opening files is supported on x86_64 and aarch64 only, not on {RuntimeInformation.ProcessArchitecture}.",
            FileCacheFailure.FlushFailed => $"Writing the dirty pages of '{path}' failed ({KernelError.NameOf(errno)}: {KernelError.Describe(errno)}); no advice was given. Check the device and the kernel log (dmesg).",
            FileCacheFailure.AdviceFailed => $"posix_fadvise {e.Advice} failed for '{path}'. " + KernelError.NameOf(errno) switch
            {
                "EINVAL" => $"The kernel refused {e.Advice} (EINVAL): the advice is unknown to it, or the range is invalid.",
                "ESPIPE" => "The file is a pipe or FIFO (ESPIPE).",
                _ => $"{KernelError.NameOf(errno)}: {KernelError.Describe(errno)}.",
            },
            _ when e.SystemCall == "mmap" => $"'{path}' cannot be mapped to measure its page cache with mincore: {SystemCall("mmap", errno, path)}",
            _ => SystemCall(e.SystemCall ?? "a system call", errno, path),
        };
    }

    public static string NoMatch(string path) =>
        $"No file matches '{path}'. Check the path and its wildcards; use -LiteralPath for a name that contains [ ] * or ?.";

    public static string NotFileSystem(string path, string provider) =>
        $"'{path}' is a {provider} path: only files of the FileSystem provider have page cache.";

    public const string EmptyPath = "An empty path names no file. Give the path of a file.";

    public static string MappedFileDeleted(string path) =>
        $"The mapping's file '{path}' has been deleted: a process still maps it, but no path leads to it any more. Its cache leaves when the last process unmaps it.";

    public static string FileReplaced(string path, ulong expected, ulong found) =>
        $"'{path}' is now inode {found}, but the object piped in named inode {expected}: the file was replaced since it was read (or is seen through an overlay). Nothing was done to it; read it again and pipe that.";

    private static string FileKind(int fileTypeBits) => fileTypeBits switch
    {
        FileType.CharacterDevice => "a character device",
        FileType.BlockDevice => "a block device",
        FileType.Fifo => "a FIFO",
        FileType.Socket => "a socket",
        _ => "not a regular file",
    };

    /// <summary>A failed system call: "statx failed for '/x': EIO (Input/output error)."</summary>
    public static string SystemCall(string syscall, int errno, string? detail) =>
        detail is null
            ? $"{syscall} failed: {KernelError.NameOf(errno)} ({KernelError.Describe(errno)})."
            : $"{syscall} failed for {detail}: {KernelError.NameOf(errno)} ({KernelError.Describe(errno)}).";
}
