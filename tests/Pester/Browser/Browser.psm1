# A real browser for the memory-map tests: Debian's chromium-headless-shell, installed when missing.
Set-StrictMode -Version 3.0

Add-Type -TypeDefinition (Get-Content -Raw (Join-Path $PSScriptRoot 'PngImage.cs'))

function Get-HeadlessBrowser {
    <#
    .SYNOPSIS
        The path of chromium-headless-shell; installs Debian's package with apt-get when it is missing (root only).
    #>
    $candidates = '/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium-headless-shell'
    $found = $candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
    if ($found) { return $found }
    if ((id -u) -ne '0' -or -not (Get-Command apt-get -ErrorAction Ignore)) { throw 'chromium-headless-shell is not installed and cannot be installed here (needs root and apt-get).' }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -q chromium-headless-shell *> $null
    if ($LASTEXITCODE -ne 0) { & apt-get update -q *> $null; & apt-get install -y -q chromium-headless-shell *> $null }
    $found = $candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $found) { throw 'apt-get could not install chromium-headless-shell.' }
    $found
}

function Invoke-HeadlessBrowser {
    <#
    .SYNOPSIS
        Loads a local HTML file in a fresh headless browser (its own profile, no network services),
        and returns the DOM after the scripts ran (-DumpDom), or takes a screenshot, with the
        browser's console lines (CONSOLE) from its log.
    #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [string] $Screenshot,
        [int] $Width = 1280,
        [int] $Height = 3000
    )
    $browser = Get-HeadlessBrowser
    $profile = Join-Path ([IO.Path]::GetTempPath()) "madvps-browser-$([guid]::NewGuid())"
    New-Item -ItemType Directory -Path $profile | Out-Null
    try {
        $info = [System.Diagnostics.ProcessStartInfo]::new($browser)
        foreach ($a in @('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', "--user-data-dir=$profile", '--hide-scrollbars',
                '--enable-logging=stderr', '--v=0', "--window-size=$Width,$Height")) { $info.ArgumentList.Add($a) }
        if ($Screenshot) { $info.ArgumentList.Add("--screenshot=$Screenshot") } else { $info.ArgumentList.Add('--dump-dom') }
        $info.ArgumentList.Add([System.UriBuilder]::new("file", "", -1, (Resolve-Path -LiteralPath $Path).ProviderPath).Uri.AbsoluteUri)
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $process = [System.Diagnostics.Process]::Start($info)
        $stderr = $process.StandardError.ReadToEndAsync()
        $stdout = $process.StandardOutput.ReadToEnd()
        if (-not $process.WaitForExit(120000)) { $process.Kill(); throw "The browser did not finish loading $Path in 120 s." }
        $process.WaitForExit()
        $clock.Stop()
        $log = $stderr.GetAwaiter().GetResult()
        [pscustomobject]@{
            Dom      = $stdout
            Console  = @($log -split "`n" | Where-Object { $_ -match ':CONSOLE[:(]' })
            ExitCode = $process.ExitCode
            Elapsed  = $clock.Elapsed
        }
    }
    finally {
        Remove-Item -Recurse -Force -LiteralPath $profile -ErrorAction SilentlyContinue
    }
}

function Read-PngImage {
    param([Parameter(Mandatory)] [string] $Path)
    [MadvPS.Tests.Browser.PngImage]::Read($Path)
}

Export-ModuleMember -Function Get-HeadlessBrowser, Invoke-HeadlessBrowser, Read-PngImage
