// The one place berth's version is written down (the CLI's `version`, the API's /version).
export const VERSION = '0.1.0';
