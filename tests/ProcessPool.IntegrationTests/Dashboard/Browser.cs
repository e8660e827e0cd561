using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ProcessPools.IntegrationTests;

/// <summary>The system's Chromium, headless, driven through the system's chromedriver (nothing downloaded).</summary>
internal sealed class Browser : IDisposable
{
    private Browser(ChromeDriver driver) => Driver = driver;

    public ChromeDriver Driver { get; }

    public static Browser Start()
    {
        var (browser, driverDirectory, driverFile) = Locate();
        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200");
        options.SetLoggingPreference(LogType.Browser, OpenQA.Selenium.LogLevel.All);
        var service = ChromeDriverService.CreateDefaultService(driverDirectory, driverFile);
        service.HideCommandPromptWindow = true;
        return new Browser(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)));
    }

    /// <summary>Debian's chromium and chromium-driver; elsewhere CHROME_PATH and CHROMEDRIVER_PATH name them.</summary>
    private static (string Browser, string DriverDirectory, string DriverFile) Locate()
    {
        var browser = Environment.GetEnvironmentVariable("CHROME_PATH") is { Length: > 0 } chrome ? chrome : "/usr/bin/chromium";
        var driver = Environment.GetEnvironmentVariable("CHROMEDRIVER_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromedriver";
        if (!File.Exists(browser) || !File.Exists(driver))
        {
            TestEnvironment.SkipUnlessCI($"the dashboard's browser tests need Chromium and its driver ({browser}, {driver}): apt-get install chromium chromium-driver, or set CHROME_PATH and CHROMEDRIVER_PATH");
        }

        return (browser, Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
