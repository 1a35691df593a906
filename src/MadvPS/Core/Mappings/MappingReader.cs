using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;

namespace MadvPS.Core;

/// <summary>Reads a process's mappings from /proc, one object per smaps entry, as they are parsed.</summary>
internal static class MappingReader
{
    /// <summary>The process as it is now, or a NotFound error.</summary>
    public static ProcessStat Describe(int processId) =>
        ProcessStat.TryRead(processId) ?? throw ProcessAccessException.NotFound(processId);

    /// <summary>
    /// Streams the mappings of /proc/PID/smaps. A process that exits part way through yields the
    /// mappings read so far and then an Exited error; a kernel thread (no mm) yields nothing.
    /// With <paramref name="readAhead"/>, the kernel's generation runs on a thread of its own.
    /// </summary>
    public static IEnumerable<MemoryMapping> ReadMappings(ProcessStat process, string processName, string? procRoot = null, bool readAhead = true)
    {
        string bootId = ProcessIdentity.CurrentBootId;
        string executable = procRoot is null ? ExecutableIdentity.Read(process.ProcessId) : "";
        using var names = new ExactNames(process.ProcessId);
        foreach (SmapsEntry entry in ReadEntries(process, "smaps", stream => new SmapsParser(stream, expectVmFlags: true), procRoot, readAhead))
        {
            MemoryMapping mapping = ToMapping(entry, process, processName, bootId);
            mapping.ExecutableId = executable;
            names.Fix(mapping);
            yield return mapping;
        }
    }

    /// <summary>
    /// Streams the entries of /proc/PID/maps: addresses, permissions, device, inode and name, no
    /// sizes and no VmFlags. The entry is reused: copy what you keep before the next one. Ends like
    /// <see cref="ReadMappings"/> when the process exits part way.
    /// </summary>
    /// <param name="readAhead">Read on a thread of its own; false for a caller that is on a thread of its own already.</param>
    public static IEnumerable<SmapsEntry> ReadMapsEntries(ProcessStat process, string? procRoot = null, bool readAhead = true) =>
        ReadEntries(process, "maps", stream => new MapsParser(stream), procRoot, readAhead);

    private static IEnumerable<SmapsEntry> ReadEntries(ProcessStat process, string file, Func<Stream, MappingEntryParser> parserFor, string? procRoot, bool readAhead)
    {
        using Stream stream = OpenStream(Open(process.ProcessId, file, procRoot), readAhead);
        MappingEntryParser parser = parserFor(stream);
        while (true)
        {
            SmapsEntry entry;
            try
            {
                if (!parser.TryReadEntry(out entry))
                {
                    break;
                }
            }
            catch (IOException e)
            {
                throw Exited(process, e);
            }
            catch (SmapsFormatException e) when (!StillRunning(process))
            {
                throw Exited(process, e);
            }

            yield return entry;
        }

        // seq_file stops at an entry boundary when the mm goes away, so a clean end does not
        // prove the list is whole: the process must still be the one that was opened.
        if (!StillRunning(process))
        {
            throw Exited(process, null);
        }
    }

    /// <summary>Reads /proc/PID/smaps_rollup; null for a task without an mm (a kernel thread, a process exiting).</summary>
    public static ProcessMemory? ReadRollup(ProcessStat process, string processName)
    {
        if (process.IsKernelThread)
        {
            // Known from stat already: no open that fails, no exception, no second look at stat.
            return null;
        }

        using FileStream? stream = OpenRollup(process);
        if (stream is null)
        {
            return null;
        }

        var parser = new SmapsParser(stream, expectVmFlags: false);
        try
        {
            if (!parser.TryReadEntry(out SmapsEntry entry))
            {
                return null;
            }

            return new ProcessMemory
            {
                ProcessId = process.ProcessId,
                ProcessName = processName,
                ProcessStartTime = process.StartTime,
                BootId = ProcessIdentity.CurrentBootId,
                PidNamespace = ProcessIdentity.CurrentPidNamespace,
                Sizes = entry.Sizes,
            };
        }
        catch (Exception e) when (e is IOException or SmapsFormatException && !StillRunning(process))
        {
            throw Exited(process, e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static MemoryMapping ToMapping(SmapsEntry entry, ProcessStat process, string processName, string bootId)
    {
        return new MemoryMapping
        {
            ProcessId = process.ProcessId,
            ProcessName = processName,
            ProcessStartTime = process.StartTime,
            BootId = bootId,
            PidNamespace = ProcessIdentity.CurrentPidNamespace,
            Start = entry.Start,
            End = entry.End,
            Size = (long)(entry.End - entry.Start),
            Permissions = entry.Permissions,
            Offset = entry.Offset,
            Device = entry.Device,
            Inode = entry.Inode,
            Path = entry.Path,
            Kind = entry.Kind,
            IsDeleted = entry.IsDeleted,
            Sizes = entry.Sizes,
            ThpEligible = entry.ThpEligible,
            ProtectionKey = entry.ProtectionKey,
            VmFlags = entry.VmFlags,
            UnknownVmFlags = entry.UnknownVmFlags,
        };
    }

    private static FileStream? OpenRollup(ProcessStat process)
    {
        try
        {
            return Open(process.ProcessId, "smaps_rollup", null);
        }
        catch (IOException e) when (e.HResult == (int)Interop.Errno.ESRCH)
        {
            // smaps_rollup_open fails with ESRCH for a task without an mm (v6.19): a kernel
            // thread, which has no memory to report, or a process that is exiting.
            return StillRunning(process) ? null : throw Exited(process, e);
        }
    }

    private static bool StillRunning(ProcessStat process) => ProcessLookup.StillRunning(process);

    private static ProcessAccessException Exited(ProcessStat process, Exception? inner) =>
        new(ProcessAccessFailure.Exited, process.ProcessId,
            $"Process {process.ProcessId} ({process.Command}) exited while its mappings were read; what was read before may be incomplete.", inner);

    /// <summary>
    /// A /proc file to parse. With <paramref name="readAhead"/> on a machine with more than one
    /// CPU, the kernel's generation of the file runs on a reader thread while the caller parses.
    /// </summary>
    internal static Stream OpenStream(string path, bool readAhead) =>
        OpenStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0), readAhead);

    private static Stream OpenStream(FileStream file, bool readAhead) =>
        readAhead && Environment.ProcessorCount > 1 ? new ReadAheadStream(file) : file;

    private static FileStream Open(int processId, string file, string? procRoot)
    {
        string path = $"{procRoot ?? "/proc"}/{processId}/{file}";
        try
        {
            // No FileStream buffer: the parser reads large blocks itself, and each read() makes
            // the kernel walk as many VMAs as fit.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProcessAccessException(ProcessAccessFailure.PermissionDenied, processId,
                $"Access to {path} was denied: {KernelInfo.PtraceDenial(processId)}.", e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw ProcessAccessException.NotFound(processId, e);
        }
    }
}
