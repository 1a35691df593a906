// A PNG decoder for the screenshots the memory-map tests take (System.Drawing is Windows-only on
// .NET): 8-bit RGB or RGBA, not interlaced, which is what Chromium writes. Pixels come out as RGB.
using System;
using System.IO;
using System.IO.Compression;

namespace MadvPS.Tests.Browser
{
    public sealed class PngImage
    {
        public int Width { get; private set; }
        public int Height { get; private set; }
        /// <summary>Three bytes (R, G, B) per pixel, rows top to bottom.</summary>
        public byte[] Rgb { get; private set; } = Array.Empty<byte>();

        public static PngImage Read(string path)
        {
            byte[] file = File.ReadAllBytes(path);
            byte[] signature = { 137, 80, 78, 71, 13, 10, 26, 10 };
            for (int i = 0; i < 8; i++)
            {
                if (file[i] != signature[i]) throw new InvalidDataException(path + " is not a PNG file.");
            }

            var image = new PngImage();
            int colourType = -1, channels = 0;
            var idat = new MemoryStream();
            int at = 8;
            while (at + 8 <= file.Length)
            {
                int length = (file[at] << 24) | (file[at + 1] << 16) | (file[at + 2] << 8) | file[at + 3];
                string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
                int data = at + 8;
                if (type == "IHDR")
                {
                    image.Width = (file[data] << 24) | (file[data + 1] << 16) | (file[data + 2] << 8) | file[data + 3];
                    image.Height = (file[data + 4] << 24) | (file[data + 5] << 16) | (file[data + 6] << 8) | file[data + 7];
                    int depth = file[data + 8];
                    colourType = file[data + 9];
                    int interlace = file[data + 12];
                    if (depth != 8 || interlace != 0 || (colourType != 2 && colourType != 6))
                    {
                        throw new InvalidDataException($"PNG depth {depth}, colour type {colourType}, interlace {interlace}: only 8-bit RGB/RGBA, not interlaced, is read.");
                    }

                    channels = colourType == 6 ? 4 : 3;
                }
                else if (type == "IDAT")
                {
                    idat.Write(file, data, length);
                }
                else if (type == "IEND")
                {
                    break;
                }

                at = data + length + 4;
            }

            int stride = image.Width * channels;
            byte[] raw = new byte[(stride + 1) * image.Height];
            idat.Position = 0;
            using (var z = new ZLibStream(idat, CompressionMode.Decompress))
            {
                int read = 0;
                while (read < raw.Length)
                {
                    int n = z.Read(raw, read, raw.Length - read);
                    if (n == 0) throw new InvalidDataException("The PNG data ends early.");
                    read += n;
                }
            }

            byte[] previous = new byte[stride];
            byte[] line = new byte[stride];
            image.Rgb = new byte[image.Width * image.Height * 3];
            for (int y = 0; y < image.Height; y++)
            {
                int filter = raw[y * (stride + 1)];
                Buffer.BlockCopy(raw, y * (stride + 1) + 1, line, 0, stride);
                for (int i = 0; i < stride; i++)
                {
                    int a = i >= channels ? line[i - channels] : 0;
                    int b = previous[i];
                    int c = i >= channels ? previous[i - channels] : 0;
                    int add = filter switch
                    {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => (a + b) / 2,
                        4 => Paeth(a, b, c),
                        _ => throw new InvalidDataException("Unknown PNG filter " + filter + "."),
                    };
                    line[i] = (byte)(line[i] + add);
                }

                for (int x = 0; x < image.Width; x++)
                {
                    int o = (y * image.Width + x) * 3;
                    image.Rgb[o] = line[x * channels];
                    image.Rgb[o + 1] = line[x * channels + 1];
                    image.Rgb[o + 2] = line[x * channels + 2];
                }

                (previous, line) = (line, previous);
            }

            return image;
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c;
            int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }

        /// <summary>
        /// How many pixels of the rectangle have one of the colours (each "#rrggbb"), within
        /// <paramref name="tolerance"/> per channel.
        /// </summary>
        public long Count(int left, int top, int width, int height, string[] colours, int tolerance)
        {
            var rgb = new int[colours.Length, 3];
            for (int i = 0; i < colours.Length; i++)
            {
                int v = Convert.ToInt32(colours[i].TrimStart('#'), 16);
                rgb[i, 0] = v >> 16; rgb[i, 1] = (v >> 8) & 0xff; rgb[i, 2] = v & 0xff;
            }

            long count = 0;
            for (int y = Math.Max(0, top); y < Math.Min(Height, top + height); y++)
            {
                for (int x = Math.Max(0, left); x < Math.Min(Width, left + width); x++)
                {
                    int o = (y * Width + x) * 3;
                    for (int i = 0; i < colours.Length; i++)
                    {
                        if (Math.Abs(Rgb[o] - rgb[i, 0]) <= tolerance && Math.Abs(Rgb[o + 1] - rgb[i, 1]) <= tolerance && Math.Abs(Rgb[o + 2] - rgb[i, 2]) <= tolerance)
                        {
                            count++;
                            break;
                        }
                    }
                }
            }

            return count;
        }
    }
}
