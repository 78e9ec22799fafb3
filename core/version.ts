/** The denomail version (shown by the admin API's server view). */
export const VERSION = "0.1.0";
