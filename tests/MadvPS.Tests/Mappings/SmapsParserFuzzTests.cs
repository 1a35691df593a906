using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using CsCheck;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Property-based and fuzz tests of <see cref="SmapsParser"/> with CsCheck: generated smaps text as
/// the kernel writes it (fs/proc/task_mmu.c) must come back field for field; damaged text must give
/// only <see cref="SmapsFormatException"/>, end, and never hand out a mapping that carries fields of
/// another entry. Every property runs a fixed number of inputs (see the Inputs constants; the counts
/// are quoted in docs/reliability.md) from a random seed, which CsCheck prints when a property fails.
/// </summary>
public partial class SmapsParserFuzzTests
{
    internal const int RoundTripInputs = 600;
    internal const int CutInputs = 200;
    internal const int CutsPerInput = 16;
    internal const int RollupInputs = 30;
    internal const int LineDamageInputs = 2000;
    internal const int ByteDamageInputs = 3000;
    internal const int RandomBytesInputs = 6000;

    /// <summary>MADVPS_FUZZ_SCALE=N runs N times as many inputs (a long run before a release); 1 in the suite.</summary>
    internal static readonly int Scale =
        int.TryParse(Environment.GetEnvironmentVariable("MADVPS_FUZZ_SCALE"), out int scale) && scale > 0 ? scale : 1;

    // A property that has not finished by then loops (or is hopelessly slow): fail instead of hanging.
    private static readonly TimeSpan s_deadline = TimeSpan.FromMinutes(2 * Scale);

    private static readonly string[] s_knownCodes =
    {
        "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "lo", "io", "sr", "rr", "dc", "de", "ac", "nr", "ht",
        "sf", "ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg", "um", "uw", "ui", "bt", "mt", "ss", "sl", "lf", "dp", "gu",
    };

    private static readonly string[] s_rollupKeys =
    {
        "Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean", "Shared_Dirty", "Private_Clean",
        "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
        "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
    };

    private const long MaxKb = long.MaxValue / 1024;

    private static readonly SmapsDefect[] s_cutOff = { SmapsDefect.CutOffLine, SmapsDefect.CutOffEntry };

    // ---- Properties ------------------------------------------------------------------------------

    [Fact]
    public void WellFormedTextComesBackFieldForField()
    {
        WithinDeadline(() => Gen.Select(s_entry.Array[0, 20], s_chunks).Sample((entries, chunks) =>
        {
            byte[] text = Encoding.UTF8.GetBytes(string.Concat(entries.Select(e => e.Text())));
            List<MemoryMapping> parsed = ParseAll(text, chunks, out Exception? error);
            Assert.Null(error);
            Assert.Equal(entries.Length, parsed.Count);
            for (int i = 0; i < entries.Length; i++)
            {
                AssertSame(entries[i], parsed[i]);
            }
        }, iter: RoundTripInputs * Scale));
    }

    [Fact]
    public void TextCutOffAtAnyByteYieldsTheCompleteEntriesBeforeTheCutAndOneClearError()
    {
        WithinDeadline(() => Gen.Select(s_entry.Array[1, 8], s_chunks, Gen.Int.Array[CutsPerInput]).Sample((entries, chunks, cutSeeds) =>
        {
            var ends = new List<int>();
            var all = new List<byte>();
            foreach (Entry entry in entries)
            {
                all.AddRange(Encoding.UTF8.GetBytes(entry.Text()));
                ends.Add(all.Count);
            }

            byte[] whole = all.ToArray();
            // Random cuts, and the bytes on either side of each entry boundary.
            IEnumerable<int> cuts = cutSeeds.Select(s => (int)((uint)s % (uint)whole.Length))
                .Concat(ends.SelectMany(e => new[] { e - 1, e, e + 1 }))
                .Where(c => c >= 0 && c <= whole.Length);
            foreach (int cut in cuts)
            {
                var parser = new SmapsParser(new ChunkedStream(whole.AsSpan(0, cut).ToArray(), chunks));
                var seen = new List<SmapsEntry>();
                var starts = new List<ulong>();
                SmapsFormatException? error = null;
                try
                {
                    while (parser.TryReadEntry(out SmapsEntry e))
                    {
                        starts.Add(e.Start);
                    }
                }
                catch (SmapsFormatException e)
                {
                    error = e;
                }

                int complete = ends.Count(end => end <= cut);
                Assert.Equal(entries.Take(complete).Select(e => e.Start), starts);
                bool atBoundary = cut == 0 || ends.Contains(cut);
                if (atBoundary)
                {
                    Assert.Null(error);
                }
                else
                {
                    Assert.NotNull(error);
                    Assert.Contains(error!.Defect, s_cutOff);
                    Assert.Contains("cut off", FailureText.Of(error));
                    // One error: the parser hands out nothing more, and throws no second time.
                    Assert.False(parser.TryReadEntry(out _));
                }
            }
        }, iter: CutInputs * Scale));
    }

    [Fact]
    public void ARollupCutOffAtAnyByteIsAnErrorUnlessItIsWhole()
    {
        Gen<(ulong, ulong)> range = Gen.Select(Gen.ULong[0, 0x7fff_ffff_ffff], Gen.ULong[0, 0x7fff_ffff_ffff], (a, b) => (Math.Min(a, b), Math.Max(a, b)));
        WithinDeadline(() => Gen.Select(range, s_kb.Array[s_rollupKeys.Length], s_chunks).Sample((r, kb, chunks) =>
        {
            var text = new StringBuilder($"{r.Item1:x8}-{r.Item2:x8} ---p 00000000 00:00 0".PadRight(72) + " [rollup]\n");
            for (int i = 0; i < s_rollupKeys.Length; i++)
            {
                // Locked closes every rollup (__show_smap); the others may be missing on older kernels.
                long value = kb[i] ?? (s_rollupKeys[i] == "Locked" ? 0 : -1);
                if (value >= 0)
                {
                    text.Append($"{s_rollupKeys[i] + ":",-16}{value,8} kB\n");
                }
            }

            byte[] whole = Encoding.ASCII.GetBytes(text.ToString());
            for (int cut = 0; cut <= whole.Length; cut++)
            {
                var parser = new SmapsParser(new ChunkedStream(whole.AsSpan(0, cut).ToArray(), chunks), expectVmFlags: false);
                if (cut == 0)
                {
                    Assert.False(parser.TryReadEntry(out _));
                }
                else if (cut == whole.Length)
                {
                    Assert.True(parser.TryReadEntry(out SmapsEntry e));
                    Assert.Equal((kb[^1] ?? 0) * 1024, e.Sizes[(int)SmapsField.Locked]);
                    Assert.Equal((kb[0] ?? 0) * 1024, e.Sizes[(int)SmapsField.Rss]);
                    Assert.False(parser.TryReadEntry(out _));
                }
                else
                {
                    var error = Assert.Throws<SmapsFormatException>(() => parser.TryReadEntry(out _));
                    Assert.Contains(error.Defect, s_cutOff);
                    Assert.Contains("cut off", FailureText.Of(error));
                    Assert.False(parser.TryReadEntry(out _));
                }
            }
        }, iter: RollupInputs * Scale));
    }

    /// <summary>
    /// Lines lost, lines doubled, garbage and blank lines, one line moved anywhere, whole entries
    /// dropped or repeated, and a cut at the end: every mapping the parser hands out must carry only
    /// fields of the entry its header belongs to. Each entry is tagged (every value of entry i says
    /// i), so a field that strays into another entry shows. (A line lost and another entry's line
    /// of the same key moved into its place is a well-formed entry that no parser can tell apart,
    /// so a move is never combined with a loss, nor with a cut, which loses the rest.)
    /// </summary>
    [Fact]
    public void DamagedLinesNeverGiveAMappingFieldsOfTwoEntries()
    {
        Gen<string> garbage = Gen.String[Gen.Char["GHIJKLMNOP:;-_ xyz"], 0, 12];
        Gen<LineDamage> lossOrNoise = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1 << 20], garbage, (kind, at, g) => new LineDamage(kind, at, 0, g));
        Gen<LineDamage> noise = Gen.Select(Gen.Int[1, 3], Gen.Int[0, 1 << 20], garbage, (kind, at, g) => new LineDamage(kind, at, 0, g));
        Gen<LineDamage> move = Gen.Select(Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20], (at, to) => new LineDamage(4, at, to, ""));
        Gen<LineDamage[]> damages = Gen.Frequency(
            (1, lossOrNoise.Array[0, 4]),
            (1, Gen.Select(noise.Array[0, 3], move, (n, m) => n.Append(m).ToArray())));
        WithinDeadline(() => Gen.Select(s_entry.Array[1, 12], Gen.Int[0, 1 << 20].Array[0, 16], damages, Gen.Int[-1, 1 << 20], s_chunks)
            .Sample((raw, order, damages, cut, chunks) =>
        {
            Entry[] tagged = raw.Select((e, i) => Tag(e, i)).ToArray();
            // Entries dropped and repeated as a whole (seq_file may show a VMA twice or skip it).
            IEnumerable<Entry> shown = order.Length == 0 ? tagged : order.Select(o => tagged[o % tagged.Length]);
            List<string> lines = shown.SelectMany(e => e.Lines()).ToList();
            foreach (LineDamage d in damages)
            {
                d.Apply(lines);
            }

            byte[] text = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
            if (cut >= 0 && !damages.Any(d => d.Kind == 4))
            {
                // A cut loses the rest of the text: like any loss, never combined with a move.
                text = text.AsSpan(0, cut % (text.Length + 1)).ToArray();
            }

            foreach (MemoryMapping m in ParseAll(text, chunks, out _))
            {
                Entry? own = tagged.FirstOrDefault(e => e.Start == m.Start);
                Assert.NotNull(own);
                AssertFieldsOnlyOf(own!, m);
            }
        }, iter: LineDamageInputs * Scale));
    }

    /// <summary>
    /// Bytes changed, inserted or deleted, text spliced at any byte: the parser ends, throws nothing
    /// but SmapsFormatException, and the entries wholly before the first damaged byte come back intact.
    /// </summary>
    [Fact]
    public void DamagedBytesGiveOnlyFormatErrorsAndLeaveTheEntriesBeforeThemIntact()
    {
        Gen<ByteDamage> damage = Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Byte,
            (kind, a, b, value) => new ByteDamage(kind, a, b, value));
        WithinDeadline(() => Gen.Select(s_entry.Array[1, 10], damage.Array[1, 4], s_chunks).Sample((entries, damages, chunks) =>
        {
            var ends = new List<int>();
            var all = new List<byte>();
            foreach (Entry entry in entries)
            {
                all.AddRange(Encoding.UTF8.GetBytes(entry.Text()));
                ends.Add(all.Count);
            }

            byte[] original = all.ToArray();
            List<byte> bytes = new(original);
            foreach (ByteDamage d in damages)
            {
                d.Apply(bytes);
            }

            byte[] text = bytes.ToArray();
            int firstDamage = 0;
            while (firstDamage < text.Length && firstDamage < original.Length && text[firstDamage] == original[firstDamage])
            {
                firstDamage++;
            }

            List<MemoryMapping> parsed = ParseAll(text, chunks, out _);
            AssertSane(parsed);
            // The parser hands an entry out when the next line starts a header (or the text ends):
            // an entry is intact when its lines and the first byte after them are.
            int intact = ends.Count(end => end < firstDamage || (end == firstDamage && end == text.Length));
            Assert.True(parsed.Count >= intact, $"{parsed.Count} mappings came back, but {intact} entries lie wholly before the first damaged byte ({firstDamage}).");
            for (int i = 0; i < intact; i++)
            {
                AssertSame(entries[i], parsed[i]);
            }
        }, iter: ByteDamageInputs * Scale));
    }

    [Fact]
    public void RandomBytesGiveOnlyFormatErrors()
    {
        // Raw bytes, and text made of smaps' own pieces in random order (which gets much further in).
        Gen<byte[]> pieces = Gen.OneOfConst(
            "1000-2000 ", "rw-p ", "00000000 ", "fe:01 ", "1234 ", "/usr/lib/x", " (deleted)", "[heap]", "\n", "\n", "\n",
            "Size:", "Rss:", "Pss:", "Locked:", "Swap:", "       4 kB", " 99999999999999999999 kB", "THPeligible: 1", "ProtectionKey: 0",
            "VmFlags: rd wr mr mw me ac ", "VmFlags:", "KSM:", ":", " ", "-", "ffffffffffffffff", "\\012", "0", "kB")
            .Array[0, 120].Select(p => Encoding.ASCII.GetBytes(string.Concat(p)));
        Gen<byte[]> raw = Gen.Frequency((1, Gen.Byte.Array[0, 2000]), (3, pieces));
        WithinDeadline(() => Gen.Select(raw, Gen.Bool, s_chunks).Sample((text, vmFlags, chunks) =>
        {
            AssertSane(ParseAll(text, chunks, out _, vmFlags));
        }, iter: RandomBytesInputs * Scale));
    }

    // ---- Targeted cases the fuzzing pointed at -----------------------------------------------------

    [Fact]
    public void ALineWithoutEndIsAnErrorNotAnEndlessRead()
    {
        // No newline ever: the parser must give up after a bounded read, not grow its buffer until
        // memory runs out (or its size overflows).
        var endless = new EndlessStream((byte)'a', limit: 64L << 20);
        var parser = new SmapsParser(endless);
        var error = Assert.Throws<SmapsFormatException>(() => parser.TryReadEntry(out _));
        Assert.Equal(SmapsDefect.LineTooLong, error.Defect);
        Assert.Contains("A line is longer than 1024 KiB", FailureText.Of(error));
        Assert.True(endless.Served <= 4L << 20, $"{endless.Served} bytes were read before the parser gave up.");
    }

    [Fact]
    public void ALongButRealHeaderLineStillParses()
    {
        // PATH_MAX bytes of newlines escaped as \012 are the longest name the kernel writes.
        string path = "/" + new string('\n', 4095);
        var sizes = new long?[SmapsText.SizeKeys.Length];
        sizes[0] = 4;
        var entry = new Entry(0x1000, 0x2000, "r--p", 0, 0xfe, 1, 7, path, true, sizes, false, null, new[] { "rd" }, Array.Empty<string>(), 0);
        MemoryMapping m = ParseAll(Encoding.UTF8.GetBytes(entry.Text()), new[] { 100 }, out Exception? error).Single();
        Assert.Null(error);
        AssertSame(entry, m);
    }

    [Theory]
    [InlineData("1000:01")]  // major 0x1000: the kernel's majors have 12 bits (MINORBITS 20)
    [InlineData("08:100001")] // minor above 20 bits
    public void ADeviceNumberTheKernelCannotHaveIsAFormatError(string device)
    {
        string text = $"1000-2000 r--p 00000000 08:01 5 /a\nSize: 4 kB\nVmFlags: rd \n3000-4000 r--p 00000000 {device} 6 /b\nSize: 4 kB\nVmFlags: rd \n";
        var parser = new SmapsParser(new MemoryStream(Encoding.ASCII.GetBytes(text)));
        Assert.True(parser.TryReadEntry(out SmapsEntry first));
        Assert.Equal("08:01", first.Device);
        // Before the fix, 1000:01 came back as the first entry's "08:01": the device cache kept
        // only 32 bits of major:minor.
        Assert.Throws<SmapsFormatException>(() => parser.TryReadEntry(out _));
    }
}
