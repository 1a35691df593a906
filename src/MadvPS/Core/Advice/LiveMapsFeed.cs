using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading;

namespace MadvPS.Core;

/// <summary>
/// The VMAs of /proc/PID/maps, read and parsed in address order on a thread of its own and handed
/// over a few dozen at a time as they are parsed, so that the caller can check and send the
/// ranges the first VMAs cover while the kernel is still printing the rest.
/// </summary>
/// <remarks>
/// <para>Each read() of maps locks the address space anew and finds its place again by address
/// (m_start in fs/proc/task_mmu.c), so a VMA that changed between two reads (a merge) can come
/// with a start below the end of the VMAs handed over before it. What lies below that end was
/// handed over already, so such a VMA is cut to the part above it: the VMAs stay sorted and do not
/// overlap, as <see cref="LiveMappings.Check(PlannedRange, ReadOnlySpan{LiveVma}, ref int)"/> needs.</para>
/// <para>A line is parsed in place, as spans of the read buffer: no entry object, no kind, and no
/// string per line. The strings a VMA keeps (permissions, device, path) are those of the line
/// before when its bytes are the same, so a run of one file's mappings, or of anonymous ones,
/// shares them.</para>
/// </remarks>
internal sealed class LiveMapsFeed : IDisposable
{
    // VMAs are published in steps this small, so that a call waits for little more than its own
    // ranges; publishing is a write and a fence, and the caller is woken only when its end is reached.
    private const int PublishEvery = 64;

    private static readonly string[] s_permissions = BuildPermissions();

    private readonly ProcessStat? _process;
    private readonly Stream? _text;
    private readonly Thread _reader;
    private readonly object _gate = new();
    // Written by the reader thread only. When it is full it is copied into one twice as large,
    // which is published before any VMA is written past the old length: an array read after the
    // count holds every VMA that count published.
    private LiveVma[] _vmas = new LiveVma[1024];
    private int _published;
    private ulong _publishedEnd;
    private ulong _wanted = ulong.MaxValue;
    private volatile bool _finished;
    private volatile bool _stop;
    private Exception? _error;
    private int _count;

    // The reader thread's: the strings of the line before, reused while the bytes are the same.
    private string _permissions = "";
    private int _permissionBits = -1;
    private long _deviceKey = -1;
    private string _device = "";
    private byte[] _nameBytes = new byte[256];
    private int _nameLength = -1;
    private string _name = "";

    /// <summary>Starts reading the maps of <paramref name="process"/> on a thread of its own.</summary>
    public LiveMapsFeed(ProcessStat process)
    {
        _process = process;
        _reader = new Thread(Read) { IsBackground = true, Name = "MadvPS maps" };
        _reader.Start();
    }

    /// <summary>Starts reading maps text from <paramref name="text"/> (for tests: no process to check alive).</summary>
    internal LiveMapsFeed(Stream text)
    {
        _text = text;
        _reader = new Thread(Read) { IsBackground = true, Name = "MadvPS maps" };
        _reader.Start();
    }

    /// <summary>The VMAs handed over so far, sorted by start and not overlapping; valid until the next <see cref="WaitFor"/>.</summary>
    public ReadOnlySpan<LiveVma> Vmas => new(Volatile.Read(ref _vmas), 0, _count);

    /// <summary>The number of VMAs handed over so far.</summary>
    public int Count => _count;

    /// <summary>No VMA handed over later starts below this address.</summary>
    public ulong Frontier { get; private set; }

    /// <summary>The whole file was read: no VMA comes any more.</summary>
    public bool Done { get; private set; }

    /// <summary>
    /// Waits until the VMAs up to <paramref name="end"/> are handed over, or the file is read.
    /// </summary>
    /// <exception cref="ProcessAccessException">The maps could not be read, or the process exited while they were.</exception>
    /// <exception cref="SmapsFormatException">maps could not be parsed.</exception>
    public void WaitFor(ulong end)
    {
        while (!Done)
        {
            // _finished is read before the count, so that a finished feed is taken whole.
            bool finished = _finished;
            _count = Volatile.Read(ref _published);
            Frontier = _count == 0 ? 0 : Volatile.Read(ref _vmas)[_count - 1].End;
            if (finished)
            {
                Done = true;
                Frontier = ulong.MaxValue;
                if (_error is not null)
                {
                    ExceptionDispatchInfo.Capture(_error).Throw();
                }

                return;
            }

            if (Frontier >= end)
            {
                return;
            }

            lock (_gate)
            {
                Volatile.Write(ref _wanted, end);
                Interlocked.MemoryBarrier();
                if (!_finished && Volatile.Read(ref _publishedEnd) < end)
                {
                    // The reader pulses when it publishes past _wanted; the timeout is a floor
                    // under a missed pulse, not the way the wait ends.
                    Monitor.Wait(_gate, 50);
                }

                _wanted = ulong.MaxValue;
            }
        }
    }

    private void Read()
    {
        int count = 0;
        ulong frontier = 0;
        LiveVma[] vmas = _vmas;
        ProcDirectory? directory = null;
        try
        {
            if (_process is ProcessStat process)
            {
                directory = ProcDirectory.Open(process);
            }

            using Stream stream = directory is null ? _text! : directory.OpenForReading("maps", _process!.Value);
            var lines = new LineReader(stream);
            while (lines.TryGetLine(out ReadOnlySpan<byte> line, out bool terminated))
            {
                if (_stop)
                {
                    return;
                }

                if (!terminated)
                {
                    throw new SmapsFormatException("The text ends part way through a line: it was cut off", lines.LineNumber);
                }

                if (line.Length == 0)
                {
                    continue;
                }

                LiveVma vma = Parse(line, lines.LineNumber);
                if (vma.End <= frontier)
                {
                    continue;
                }

                if (count == vmas.Length)
                {
                    var grown = new LiveVma[vmas.Length * 2];
                    Array.Copy(vmas, grown, count);
                    vmas = grown;
                    Volatile.Write(ref _vmas, grown);
                }

                // A VMA that starts below the ones already handed over is cut to the part above them.
                if (vma.Start < frontier)
                {
                    ulong cut = frontier - vma.Start;
                    vma = vma with { Start = frontier, Offset = vma.Inode != 0 ? vma.Offset + cut : vma.Offset };
                }

                vmas[count++] = vma;
                frontier = vma.End;
                if (count % PublishEvery == 0)
                {
                    Publish(count, frontier);
                }
            }

            // seq_file stops at an entry boundary when the mm goes away, so a clean end does not
            // prove the list is whole: the process must still run.
            if (directory is not null && !directory.IsAlive())
            {
                throw ProcessAccessException.Exited(_process!.Value, null);
            }
        }
        catch (IOException e) when (_process is not null)
        {
            _error = ProcessAccessException.Exited(_process.Value, e);
        }
        catch (SmapsFormatException e) when (directory is not null && !directory.IsAlive())
        {
            _error = ProcessAccessException.Exited(_process!.Value, e);
        }
        catch (Exception e)
        {
            _error = e;
        }
        finally
        {
            directory?.Dispose();
            Volatile.Write(ref _published, count);
            _finished = true;
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    // start-end perms offset major:minor inode [padding name], as show_map_vma prints it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private LiveVma Parse(ReadOnlySpan<byte> line, long lineNumber)
    {
        int at = 0;
        ulong start = Hex(line, ref at, (byte)'-', lineNumber);
        ulong end = Hex(line, ref at, (byte)' ', lineNumber);
        if (end < start || at + 5 > line.Length || line[at + 4] != (byte)' ')
        {
            throw Malformed(lineNumber);
        }

        string permissions = Permissions(line.Slice(at, 4));
        at += 5;
        ulong offset = Hex(line, ref at, (byte)' ', lineNumber);
        int deviceAt = at;
        ulong major = Hex(line, ref at, (byte)':', lineNumber);
        ulong minor = Hex(line, ref at, (byte)' ', lineNumber);
        if (major > 0xFFF || minor > 0xFFFFF)
        {
            throw Malformed(lineNumber);
        }

        long deviceKey = (long)((major << 20) | minor);
        if (deviceKey != _deviceKey)
        {
            _device = Encoding.ASCII.GetString(line.Slice(deviceAt, at - deviceAt - 1));
            _deviceKey = deviceKey;
        }

        int inodeAt = at;
        ulong inode = 0;
        while (at < line.Length && line[at] != (byte)' ')
        {
            uint digit = (uint)(line[at] - '0');
            if (digit > 9 || inode > (ulong.MaxValue - digit) / 10)
            {
                throw Malformed(lineNumber);
            }

            inode = (inode * 10) + digit;
            at++;
        }

        if (at == inodeAt)
        {
            throw Malformed(lineNumber);
        }

        while (at < line.Length && line[at] == (byte)' ')
        {
            at++;
        }

        ReadOnlySpan<byte> name = line.Slice(at);
        if (name.EndsWith(" (deleted)"u8))
        {
            name = name.Slice(0, name.Length - 10);
        }

        return new LiveVma(start, end, permissions, offset, _device, inode, Name(name));
    }

    private string Permissions(ReadOnlySpan<byte> text)
    {
        int bits = (text[0] == (byte)'r' ? 1 : text[0] == (byte)'-' ? 0 : 16)
            | (text[1] == (byte)'w' ? 2 : text[1] == (byte)'-' ? 0 : 16)
            | (text[2] == (byte)'x' ? 4 : text[2] == (byte)'-' ? 0 : 16)
            | (text[3] == (byte)'s' ? 8 : text[3] == (byte)'p' ? 0 : 16);
        if (bits >= 16)
        {
            return Encoding.ASCII.GetString(text);
        }

        if (bits != _permissionBits)
        {
            _permissions = s_permissions[bits];
            _permissionBits = bits;
        }

        return _permissions;
    }

    private string Name(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return "";
        }

        if (name.Length == _nameLength && name.SequenceEqual(_nameBytes.AsSpan(0, _nameLength)))
        {
            return _name;
        }

        if (_nameBytes.Length < name.Length)
        {
            _nameBytes = new byte[name.Length];
        }

        name.CopyTo(_nameBytes);
        _nameLength = name.Length;
        _name = MappingEntryParser.DecodeName(name);
        return _name;
    }

    // Hex digits up to terminator (at most 16 of them: a 64-bit value), which is passed over.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hex(ReadOnlySpan<byte> line, ref int at, byte terminator, long lineNumber)
    {
        int first = at;
        ulong value = 0;
        while (at < line.Length)
        {
            uint b = line[at];
            uint digit = b - '0';
            if (digit > 9)
            {
                digit = (b | 0x20) - 'a';
                if (digit > 5)
                {
                    break;
                }

                digit += 10;
            }

            value = (value << 4) | digit;
            at++;
        }

        if (at == first || at - first > 16 || at == line.Length || line[at] != terminator)
        {
            throw Malformed(lineNumber);
        }

        at++;
        return value;
    }

    private static SmapsFormatException Malformed(long lineNumber) =>
        new("A maps line is not 'start-end perms offset major:minor inode name'", lineNumber);

    private static string[] BuildPermissions()
    {
        var all = new string[16];
        for (int i = 0; i < 16; i++)
        {
            all[i] = string.Concat((i & 1) != 0 ? "r" : "-", (i & 2) != 0 ? "w" : "-", (i & 4) != 0 ? "x" : "-", (i & 8) != 0 ? "s" : "p");
        }

        return all;
    }

    private void Publish(int count, ulong end)
    {
        Volatile.Write(ref _published, count);
        Volatile.Write(ref _publishedEnd, end);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _wanted) <= end)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Stops the reader thread (it ends at the next VMA) and waits for it.</summary>
    public void Dispose()
    {
        _stop = true;
        _reader.Join();
    }
}
