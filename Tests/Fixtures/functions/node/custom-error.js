// Test fixture: throws an instance of a custom Error subclass (errorType "MyError").
class MyError extends Error {}

exports.handler = async (event) => {
  throw new MyError((event && event.message) || 'custom failure');
};
