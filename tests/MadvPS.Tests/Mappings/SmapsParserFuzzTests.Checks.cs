using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

// The checks and parsing helpers the properties share.
public partial class SmapsParserFuzzTests
{
    // ---- Helpers ---------------------------------------------------------------------------------

    private static Entry Tag(Entry e, int i) => e with
    {
        Start = (ulong)(i + 1) << 32,
        End = ((ulong)(i + 1) << 32) + ((ulong)(i + 1) << 12),
        Offset = (ulong)i,
        Major = (uint)i,
        Minor = (uint)(i + 7),
        Inode = (ulong)(1000 + i),
        Name = $"/tagged/{i}",
        Deleted = false,
        Kb = Enumerable.Range(0, SmapsText.SizeKeys.Length).Select(k => (long?)(i * 1000 + k + 1)).ToArray(),
        Thp = i % 2 == 1,
        Pkey = i,
        Flags = e.Flags.Where(f => KernelVmFlags.Lookup(f) != VmFlags.None).Append($"t{i}").ToArray(),
    };

    private static void AssertFieldsOnlyOf(Entry own, MemoryMapping m)
    {
        Assert.Equal(own.End, m.End);
        Assert.Equal(own.Perms, m.Permissions);
        Assert.Equal(own.Offset, m.Offset);
        Assert.Equal(own.Device, m.Device);
        Assert.Equal(own.Inode, m.Inode);
        Assert.Equal(own.Name, m.Path);
        // A field line may be lost (its value is then 0), never taken from another entry.
        foreach ((string key, long value) in SizesOf(m))
        {
            Assert.True(value == 0 || value == own.Bytes(key), $"{key} of the entry at {m.Start:x} is {value}, not its own {own.Bytes(key)}.");
        }

        Assert.True(m.ProtectionKey is null || m.ProtectionKey == own.Pkey, $"ProtectionKey {m.ProtectionKey} is not {own.Pkey}.");
        Assert.True(!m.ThpEligible || own.Thp);
        Assert.Equal(own.KnownFlags, m.VmFlags);
        Assert.Equal(own.UnknownFlags, m.UnknownVmFlags);
    }

    // The kind each generated name stands for, from how the kernel names mappings (show_map_vma and
    // the vm_ops->name of each kind), not from the parser's own Classify: anonymous memory has no
    // name; "[anon:...]" is prctl(PR_SET_VMA_ANON_NAME), "[anon_shmem:...]" its shared form;
    // memfd_create files are "/memfd:NAME"; shared anonymous memory is "/dev/zero" with 's' (a
    // private map of /dev/zero is a plain file mapping); System V segments are "/SYSV<key>".
    private static MappingKind ExpectedKind(string name, string perms) => name switch
    {
        "" => MappingKind.Anonymous,
        "[heap]" => MappingKind.Heap,
        "[stack]" => MappingKind.Stack,
        "[vdso]" => MappingKind.Vdso,
        "[vvar]" or "[vvar_vclock]" => MappingKind.Vvar,
        "[vsyscall]" => MappingKind.Vsyscall,
        "[uprobes]" => MappingKind.Special,
        "[anon:dalvik main]" => MappingKind.NamedAnonymous,
        "[anon_shmem:ashmem]" => MappingKind.SharedMemory,
        "/memfd:madvps" => MappingKind.Memfd,
        "/dev/zero" => perms[3] == 's' ? MappingKind.SharedMemory : MappingKind.File,
        "/SYSV0000002a" => MappingKind.SharedMemory,
        // The random names are "/" and characters that spell none of the prefixes above.
        _ when name.StartsWith('/') || name.StartsWith("anon_inode:", StringComparison.Ordinal) => MappingKind.File,
        _ => throw new InvalidOperationException($"No expected kind for the generated name '{name}'."),
    };

    private static void AssertSame(Entry e, MemoryMapping m)
    {
        Assert.Equal(e.Start, m.Start);
        Assert.Equal(e.End, m.End);
        Assert.Equal(e.Perms, m.Permissions);
        Assert.Equal(e.Offset, m.Offset);
        Assert.Equal(e.Device, m.Device);
        Assert.Equal(e.Inode, m.Inode);
        Assert.Equal(e.Name, m.Path);
        Assert.Equal(e.Deleted, m.IsDeleted);
        Assert.Equal(ExpectedKind(e.Name, e.Perms), m.Kind);
        foreach ((string key, long value) in SizesOf(m))
        {
            Assert.True(value == e.Bytes(key), $"{key}: {value}, expected {e.Bytes(key)}.");
        }

        Assert.Equal(e.Thp, m.ThpEligible);
        Assert.Equal(e.Pkey, m.ProtectionKey);
        Assert.Equal(e.KnownFlags, m.VmFlags);
        Assert.Equal(e.UnknownFlags, m.UnknownVmFlags);
    }

    private static IEnumerable<(string Key, long Value)> SizesOf(MemoryMapping m)
    {
        // Size is End - Start in the mapping; the Size line itself is checked through SmapsEntry elsewhere.
        yield return ("KernelPageSize", m.KernelPageSize);
        yield return ("MMUPageSize", m.MMUPageSize);
        yield return ("Rss", m.Rss);
        yield return ("Pss", m.Pss);
        yield return ("Pss_Dirty", m.PssDirty);
        yield return ("Shared_Clean", m.SharedClean);
        yield return ("Shared_Dirty", m.SharedDirty);
        yield return ("Private_Clean", m.PrivateClean);
        yield return ("Private_Dirty", m.PrivateDirty);
        yield return ("Referenced", m.Referenced);
        yield return ("Anonymous", m.Anonymous);
        yield return ("KSM", m.Ksm);
        yield return ("LazyFree", m.LazyFree);
        yield return ("AnonHugePages", m.AnonHugePages);
        yield return ("ShmemPmdMapped", m.ShmemPmdMapped);
        yield return ("FilePmdMapped", m.FilePmdMapped);
        yield return ("Shared_Hugetlb", m.SharedHugetlb);
        yield return ("Private_Hugetlb", m.PrivateHugetlb);
        yield return ("Swap", m.Swap);
        yield return ("SwapPss", m.SwapPss);
        yield return ("Locked", m.Locked);
    }

    private static void AssertSane(List<MemoryMapping> parsed)
    {
        foreach (MemoryMapping m in parsed)
        {
            Assert.True(m.End >= m.Start);
            Assert.Equal(4, m.Permissions.Length);
            Assert.Matches("^[0-9a-fA-F]+:[0-9a-fA-F]+$", m.Device);
            foreach ((string key, long value) in SizesOf(m))
            {
                Assert.True(value >= 0, $"{key} is negative: {value}.");
            }
        }
    }

    /// <summary>
    /// Parses everything, as MappingReader does: stops at the first error, which must be a
    /// SmapsFormatException (anything else fails the test). A parser that hands out more entries
    /// than the text has lines loops.
    /// </summary>
    private static List<MemoryMapping> ParseAll(byte[] text, int[] chunks, out Exception? error, bool expectVmFlags = true)
    {
        var parser = new SmapsParser(new ChunkedStream(text, chunks), expectVmFlags);
        var stat = new ProcessStat(1, "fuzz", 'S', 42);
        var all = new List<MemoryMapping>();
        int lines = text.Count(b => b == (byte)'\n') + 1;
        error = null;
        try
        {
            while (parser.TryReadEntry(out SmapsEntry entry))
            {
                all.Add(MappingReader.ToMapping(entry, stat, "fuzz", "boot"));
                Assert.True(all.Count <= lines, "The parser handed out more entries than the text has lines: it loops.");
            }
        }
        catch (SmapsFormatException e)
        {
            error = e;
            Assert.True(Enum.IsDefined(e.Defect));
            Assert.EndsWith($"(line {e.LineNumber}).", FailureText.Of(e));
        }

        return all;
    }

    private static void WithinDeadline(Action property)
    {
        Task run = Task.Run(property);
        if (!run.Wait(s_deadline))
        {
            Assert.Fail($"The property did not finish within {s_deadline}: the parser loops or is far too slow.");
        }

        run.GetAwaiter().GetResult();
    }

    /// <summary>0 loses line At, 1 doubles it, 2 inserts a garbage line, 3 a blank line, 4 moves line At to To.</summary>
    internal sealed record LineDamage(int Kind, int At, int To, string Garbage)
    {
        public void Apply(List<string> lines)
        {
            if (lines.Count == 0)
            {
                return;
            }

            int i = At % lines.Count;
            switch (Kind)
            {
                case 0: lines.RemoveAt(i); break;
                case 1: lines.Insert(i, lines[i]); break;
                case 2: lines.Insert(i, Garbage); break;
                case 3: lines.Insert(i, ""); break;
                case 4:
                    string moved = lines[i];
                    lines.RemoveAt(i);
                    lines.Insert(To % (lines.Count + 1), moved);
                    break;
            }
        }
    }

    internal sealed record ByteDamage(int Kind, int A, int B, byte Value)
    {
        public void Apply(List<byte> bytes)
        {
            int a = bytes.Count == 0 ? 0 : A % bytes.Count;
            switch (Kind)
            {
                case 0 when bytes.Count > 0: bytes[a] = Value; break;
                case 1: bytes.Insert(Math.Min(a, bytes.Count), Value); break;
                case 2 when bytes.Count > 0: bytes.RemoveRange(a, Math.Min(B % 64 + 1, bytes.Count - a)); break;
                case 3 when bytes.Count > 0:
                    // Splice: the text up to a, then the text from b (a repeat or a loss, at any byte).
                    int b = B % bytes.Count;
                    List<byte> spliced = bytes.Take(a).Concat(bytes.Skip(b)).ToList();
                    bytes.Clear();
                    bytes.AddRange(spliced);
                    break;
            }
        }
    }

    /// <summary>A stream that hands out its bytes in the given read sizes, in turn.</summary>
    private sealed class ChunkedStream : Stream
    {
        private readonly byte[] _data;
        private readonly int[] _chunks;
        private int _position;
        private int _read;

        public ChunkedStream(byte[] data, int[] chunks)
        {
            _data = data;
            _chunks = chunks;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, _chunks[_read++ % _chunks.Length]), _data.Length - _position);
            Array.Copy(_data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The same byte for ever; fails the test (not the machine) past a limit.</summary>
    private sealed class EndlessStream : Stream
    {
        private readonly byte _value;
        private readonly long _limit;

        public EndlessStream(byte value, long limit)
        {
            _value = value;
            _limit = limit;
        }

        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Served > _limit)
            {
                throw new InvalidOperationException($"The parser read {Served} bytes of one line and goes on reading.");
            }

            buffer.AsSpan(offset, count).Fill(_value);
            Served += count;
            return count;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
