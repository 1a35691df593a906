using System;
using System.Globalization;

namespace MadvPS;

/// <summary>How the format views show sizes and addresses; public so views of deserialized objects can call it too.</summary>
public static class Display
{
    private static readonly string[] s_units = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

    /// <summary>
    /// Bytes in binary units: 512 B, 4 KiB, 1.5 MiB. From 1000 of a unit on, the next one
    /// (1000 KiB shows as 1 MiB; bytes up to 1023 B), so a size is at most 9 characters ("999.9 MiB") and fits the
    /// views' columns; 10 with a minus sign.
    /// </summary>
    public static string Bytes(long bytes)
    {
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= (unit == 0 ? 1024 : 999.95) && unit < s_units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {s_units[unit]}");
    }

    /// <summary>An address in hex, as /proc prints it.</summary>
    public static string Address(ulong address) => address.ToString("x", CultureInfo.InvariantCulture);
}
