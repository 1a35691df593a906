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
    public static IEnumerable<MemoryMapping> ReadMappings(ProcessStat process, string processName, bool readAhead = true)
    {
        using ProcDirectory directory = ProcDirectory.Open(process);
        foreach (MemoryMapping mapping in ReadMappings(directory, process, processName, readAhead))
        {
            yield return mapping;
        }
    }

    /// <summary><see cref="ReadMappings(ProcessStat, string, bool)"/> through a directory the caller holds.</summary>
    public static IEnumerable<MemoryMapping> ReadMappings(ProcDirectory directory, ProcessStat process, string processName, bool readAhead = true)
    {
        string bootId = ProcessIdentity.CurrentBootId;
        string executable = ExecutableIdentity.Read(directory);
        using var names = new ExactNames(directory);
        foreach (SmapsEntry entry in ReadEntries(directory, process, "smaps", stream => new SmapsParser(stream, expectVmFlags: true), readAhead))
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
    /// <see cref="ReadMappings(ProcessStat, string, bool)"/> when the process exits part way.
    /// </summary>
    /// <param name="readAhead">Read on a thread of its own; false for a caller that is on a thread of its own already.</param>
    public static IEnumerable<SmapsEntry> ReadMapsEntries(ProcDirectory directory, ProcessStat process, bool readAhead = true) =>
        ReadEntries(directory, process, "maps", stream => new MapsParser(stream), readAhead);

    /// <summary><see cref="ReadMapsEntries(ProcDirectory, ProcessStat, bool)"/> through a directory of its own.</summary>
    public static IEnumerable<SmapsEntry> ReadMapsEntries(ProcessStat process, bool readAhead = true)
    {
        using ProcDirectory directory = ProcDirectory.Open(process);
        foreach (SmapsEntry entry in ReadMapsEntries(directory, process, readAhead))
        {
            yield return entry;
        }
    }

    private static IEnumerable<SmapsEntry> ReadEntries(ProcDirectory directory, ProcessStat process, string file, Func<Stream, MappingEntryParser> parserFor, bool readAhead)
    {
        using Stream stream = OpenStream(directory.OpenForReading(file, process), readAhead);
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
                throw ProcessAccessException.Exited(process, e);
            }
            catch (SmapsFormatException e) when (!directory.IsAlive())
            {
                throw ProcessAccessException.Exited(process, e);
            }

            yield return entry;
        }

        // seq_file stops at an entry boundary when the mm goes away, so a clean end does not
        // prove the list is whole: the process must still run. The directory is bound to the
        // process, so a PID taken by another process since reads as gone.
        if (!directory.IsAlive())
        {
            throw ProcessAccessException.Exited(process, null);
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

        using ProcDirectory directory = ProcDirectory.Open(process);
        return ReadRollup(directory, process, processName);
    }

    /// <summary><see cref="ReadRollup(ProcessStat, string)"/> through a directory the caller holds.</summary>
    public static ProcessMemory? ReadRollup(ProcDirectory directory, ProcessStat process, string processName)
    {
        if (process.IsKernelThread)
        {
            return null;
        }

        using FileStream? stream = directory.OpenRollup(process);
        return stream is null ? null : ReadRollup(directory, stream, process, processName);
    }

    /// <summary>
    /// Parses smaps_rollup from a stream opened through <paramref name="directory"/>. A read that
    /// fails, or finds no entry, once the process is exiting (ESRCH: the mm went after the open)
    /// is an Exited error.
    /// </summary>
    internal static ProcessMemory? ReadRollup(ProcDirectory directory, Stream stream, ProcessStat process, string processName)
    {
        var parser = new SmapsParser(stream, expectVmFlags: false);
        SmapsEntry entry;
        try
        {
            if (!parser.TryReadEntry(out entry))
            {
                return directory.IsAlive() ? null : throw ProcessAccessException.Exited(process, null);
            }
        }
        catch (Exception e) when (e is IOException or SmapsFormatException && !directory.IsAlive())
        {
            throw ProcessAccessException.Exited(process, e);
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

    /// <summary>
    /// A /proc file to parse. With <paramref name="readAhead"/> on a machine with more than one
    /// CPU, the kernel's generation of the file runs on a reader thread while the caller parses.
    /// </summary>
    internal static Stream OpenStream(string path, bool readAhead) =>
        OpenStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0), readAhead);

    private static Stream OpenStream(FileStream file, bool readAhead) =>
        readAhead && Environment.ProcessorCount > 1 ? new ReadAheadStream(file) : file;
}
