describe('emulatorsAvailable', () => {
  const saved = process.env.GOOGLE_CLOUD_SDK_ROOT;
  afterEach(() => {
    if (saved === undefined) delete process.env.GOOGLE_CLOUD_SDK_ROOT;
    else process.env.GOOGLE_CLOUD_SDK_ROOT = saved;
  });

  it('names the Debian packages and Java when the emulators are missing', () => {
    process.env.GOOGLE_CLOUD_SDK_ROOT = '/nonexistent-sdk';
    jest.isolateModules(() => {
      // A fresh copy of the module, so it reads the overridden SDK root when it loads.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { emulatorsAvailable } = require('../../testkit/emulators') as typeof import('../../testkit/emulators');
      expect(emulatorsAvailable()).toEqual({
        ok: false,
        missing: expect.stringMatching(/google-cloud-cli-firestore-emulator.*google-cloud-cli-pubsub-emulator.*Java.*default-jre-headless/),
      });
    });
  });
});
