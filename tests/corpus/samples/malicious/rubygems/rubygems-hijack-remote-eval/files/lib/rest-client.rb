# This file exists for backward compatibility with require 'rest-client'
require File.dirname(__FILE__) + '/restclient'
