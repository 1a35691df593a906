using System;
using System.Linq;
using System.Text;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class FileNameBytesTests
{
    // Expected UTF-16 units from Python 3.11: bytes.decode('utf-8', 'surrogateescape'), the scheme
    // of PEP 383 that os.fsdecode uses for POSIX names (printed as hex code units, pairs for > U+FFFF).
    [Theory]
    [InlineData("80", "DC80")]
    [InlineData("ff", "DCFF")]
    [InlineData("618062", "0061 DC80 0062")]
    [InlineData("c3a9", "00E9")]
    [InlineData("c3", "DCC3")]
    [InlineData("c328", "DCC3 0028")]
    [InlineData("e282", "DCE2 DC82")]
    [InlineData("e28241", "DCE2 DC82 0041")]
    [InlineData("edb280", "DCED DCB2 DC80")] // UTF-8 of a surrogate is invalid UTF-8
    [InlineData("f09f9880", "D83D DE00")]
    [InlineData("f09f98", "DCF0 DC9F DC98")]
    [InlineData("c0af", "DCC0 DCAF")] // overlong '/'
    [InlineData("f5808080", "DCF5 DC80 DC80 DC80")]
    [InlineData("efbfbd", "FFFD")] // a real U+FFFD stays one
    [InlineData("78feff79c3a980", "0078 DCFE DCFF 0079 00E9 DC80")]
    public void DecodesAsPythonSurrogateEscape(string hex, string units)
    {
        byte[] bytes = Convert.FromHexString(hex);
        string expected = Units(units);

        string decoded = FileNameBytes.Decode(bytes);

        Assert.Equal(expected, decoded);
        Assert.Equal(bytes.Append((byte)0).ToArray(), FileNameBytes.ToNulTerminated(decoded));
    }

    [Fact]
    public void EveryByteButNulAndSlashRoundTrips()
    {
        byte[] all = Enumerable.Range(1, 255).Where(b => b != '/').Select(b => (byte)b).ToArray();
        foreach (byte[] name in new[] { all, all.Reverse().ToArray() }.Concat(all.Select(b => new[] { (byte)'x', b, (byte)'y' })))
        {
            string decoded = FileNameBytes.Decode(name);
            Assert.Equal(name.Append((byte)0).ToArray(), FileNameBytes.ToNulTerminated(decoded));
            Assert.Equal(name.Any(b => b >= 0x80), FileNameBytes.HasEscapedBytes(decoded));
        }
    }

    [Fact]
    public void RandomBytesRoundTrip()
    {
        var random = new Random(20);
        for (int n = 0; n < 20_000; n++)
        {
            byte[] name = new byte[random.Next(1, n % 100 == 0 ? 3000 : 40)];
            random.NextBytes(name);
            for (int i = 0; i < name.Length; i++)
            {
                name[i] = name[i] == 0 ? (byte)1 : name[i];
            }

            Assert.Equal(name.Append((byte)0).ToArray(), FileNameBytes.ToNulTerminated(FileNameBytes.Decode(name)));
        }
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6")]
    [InlineData("é€ 😀")]
    [InlineData("x (deleted)")]
    [InlineData("a\\b\nc\t\u0001")]
    [InlineData("")]
    public void ValidUtf8IsUnchanged(string name)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(name);
        Assert.Equal(name, FileNameBytes.Decode(utf8));
        Assert.False(FileNameBytes.HasEscapedBytes(name));
        Assert.Equal(utf8.Append((byte)0).ToArray(), FileNameBytes.ToNulTerminated(name));
    }

    // UTF-16 units as hex: xunit carries test data as UTF-8 text, where a lone surrogate is lost.
    [Theory]
    [InlineData("0061 D800 0062", "61efbfbd62")] // a lone high surrogate: no name decodes to it
    [InlineData("DC7F", "efbfbd")] // U+DC00..U+DC7F would be bytes below 0x80, which are never escaped
    [InlineData("D83D DC80", "f09f9280")] // a pair whose low half is in the escape range is one character
    [InlineData("DC80 D83D DE00 DCFF", "80f09f9880ff")]
    public void OtherSurrogatesAreWrittenAsReplacement(string units, string hex)
    {
        string name = Units(units);
        Assert.Equal(Convert.FromHexString(hex + "00"), FileNameBytes.ToNulTerminated(name));
    }

    [Fact]
    public void LongNamesDecodeBeyondTheStackBuffer()
    {
        byte[] name = Enumerable.Range(0, 5000).Select(i => (byte)(i % 2 == 0 ? 0xff : 'a')).ToArray();
        string decoded = FileNameBytes.Decode(name);
        Assert.Equal(5000, decoded.Length);
        Assert.Equal('\uDCFF', decoded[4998]);
        Assert.Equal(name.Append((byte)0).ToArray(), FileNameBytes.ToNulTerminated(decoded));
    }

    [Fact]
    public void TheSmapsNameDecoderKeepsBytesThatAreNotUtf8()
    {
        // seq_path prints a newline as \012 and every other byte raw (fs/proc/task_mmu.c).
        byte[] text = Convert.FromHexString("2f746d702f80" + "5c303132" + "ff63");
        string name = MappingEntryParser.DecodeName(text);
        Assert.Equal("/tmp/\uDC80\n\uDCFFc", name);
        Assert.Equal(Convert.FromHexString("2f746d702f800aff6300"), FileNameBytes.ToNulTerminated(name));
    }

    private static string Units(string hex) => new(hex.Split(' ').Select(u => (char)Convert.ToUInt16(u, 16)).ToArray());
}
